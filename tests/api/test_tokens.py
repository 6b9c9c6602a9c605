"""API tokens: who may make them, how they authenticate, and how they end."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts import reauth
from api.models import ApiToken
from audit.models import Action, Event

from .conftest import TokenClient

pytestmark = pytest.mark.django_db

PLANS = "/api/v1/plans/"


def test_a_token_acts_as_its_user_and_keeps_no_session(api):
    response = api.as_("statistics").get(PLANS)
    assert response.status_code == 200
    assert response.json() == []
    assert "sessionid" not in response.cookies
    token = ApiToken.objects.get(user=api.statistics)
    assert token.last_used_at is not None


def test_a_token_has_its_users_permissions_and_no_more(api):
    # A counsellor may log contacts but not read plan figures; the token is the same.
    response = api.as_("counsellor").get(PLANS)
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]
    denied = Event.objects.filter(action=Action.PERMISSION_DENIED).last()
    assert denied.actor_id == api.counsellor.pk
    assert denied.object_ref == "api:plan_list"


@pytest.mark.parametrize(
    "header",
    ["Bearer hkt_not-a-token", "Bearer ", "Token abc", "Basic dXNlcjpwYXNz"],
)
def test_a_bad_or_malformed_token_is_refused_with_401_and_a_reason(client, api, header):
    response = client.get(PLANS, headers={"Authorization": header})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["detail"]


@pytest.mark.parametrize("ending", ["revoked", "expired", "user_deactivated"])
def test_a_token_ends_when_revoked_expired_or_its_user_deactivated(api, ending):
    token = ApiToken.objects.get(user=api.statistics)
    assert api.as_("statistics").get(PLANS).status_code == 200
    if ending == "revoked":
        token.revoked_at = timezone.now()
        token.save()
    elif ending == "expired":
        token.expires_at = timezone.now() - datetime.timedelta(seconds=1)
        token.save()
    else:
        api.statistics.is_active = False
        api.statistics.save()
    assert api.as_("statistics").get(PLANS).status_code == 401


def test_without_credentials_the_api_answers_401_not_a_login_page(client, api):
    response = client.get(PLANS)
    assert response.status_code == 401
    assert response.json()["detail"]


def test_a_token_opens_nothing_outside_the_api(api):
    # Screens keep needing a signed-in session: the header is ignored there.
    response = api.as_("supervisor").get(reverse("casework:case_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_unknown_api_urls_answer_json_404(api):
    response = api.as_("statistics").get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["detail"]


@pytest.mark.two_factor
def test_a_supervisor_token_works_without_a_second_factor_but_a_bare_session_does_not(client, api):
    # The token was made in a session that passed the second factor; a session that
    # has not passed it gets a JSON refusal from the API, not a redirect.
    assert api.as_("supervisor").get(PLANS).status_code == 200
    client.force_login(api.supervisor)
    response = client.get(PLANS)
    assert response.status_code == 403
    assert response.json()["detail"]


def test_the_token_page_shows_a_new_token_once_and_stores_only_its_digest(client, api):
    client.force_login(api.counsellor)
    response = client.post(reverse("api_tokens:create"), {"name": "市町村連携", "days": "30"})
    assert response.status_code == 201
    token = ApiToken.objects.filter(user=api.counsellor, name="市町村連携").get()
    raw = response.context["raw"]
    assert raw.startswith(token.prefix)
    assert raw.encode() in response.content
    with connection.cursor() as cursor:
        cursor.execute("SELECT prefix, digest FROM api_apitoken WHERE id = %s", [token.pk])
        stored = " ".join(cursor.fetchone())
    assert raw not in stored
    assert TokenClient(raw).post("/api/v1/contacts/", {"channel": "phone"}).status_code == 201
    # The list shows it again only by its prefix.
    listing = client.get(reverse("api_tokens:list"))
    assert raw.encode() not in listing.content
    assert token.prefix.encode() in listing.content
    event = Event.objects.filter(action=Action.CREATE, object_type="api.ApiToken").get()
    assert event.detail["token"] == token.prefix
    assert raw not in str(event.detail)


def test_making_a_token_needs_a_recent_password(client, api, settings):
    client.force_login(api.counsellor)
    session = client.session
    session[reauth.AUTHENTICATED_AT] = 0  # signed in long ago
    session.save()
    response = client.post(reverse("api_tokens:create"), {"name": "連携", "days": "30"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:reauthenticate"))
    assert not ApiToken.objects.filter(user=api.counsellor, name="連携").exists()


@pytest.mark.parametrize("days", ["0", "91", "abc", ""])
def test_a_token_lifetime_outside_the_limit_is_refused_with_a_message(client, api, days):
    client.force_login(api.counsellor)
    before = ApiToken.objects.count()
    response = client.post(reverse("api_tokens:create"), {"name": "連携", "days": days})
    assert response.status_code == 400
    assert response.context["form"].errors["days"]
    assert ApiToken.objects.count() == before


def test_users_revoke_their_own_tokens_only(client, api):
    own = ApiToken.objects.get(user=api.counsellor)
    other = ApiToken.objects.get(user=api.supervisor)
    client.force_login(api.counsellor)
    assert client.post(reverse("api_tokens:revoke", args=[other.pk])).status_code == 404
    assert client.post(reverse("api_tokens:revoke", args=[own.pk])).status_code == 302
    own.refresh_from_db()
    other.refresh_from_db()
    assert own.revoked_at is not None and other.revoked_at is None
    assert Event.objects.filter(action=Action.UPDATE, object_type="api.ApiToken").count() == 1


def test_roles_without_api_endpoints_cannot_make_tokens(client, api):
    mdt = api.world.mdt
    for user in (api.auditor, mdt):
        client.force_login(user)
        assert client.get(reverse("api_tokens:list")).status_code == 403
