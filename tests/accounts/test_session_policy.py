"""Sessions: a new key at login, idle and absolute timeouts, disabled users out at once,
and nothing a signed-in user sees is cached."""

from __future__ import annotations

import time

import pytest
from django.test import override_settings

from accounts.middleware import LAST_SEEN, SIGNED_IN
from accounts.roles import Role
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def signed_in(client, username="staff"):
    make_user(Role.COUNSELLOR, username=username)
    assert (
        client.post("/accounts/login/", {"username": username, "password": PASSWORD}).status_code
        == 302
    )
    assert client.get("/").status_code == 200
    return client


def shift(client, **seconds_ago):
    session = client.session
    for key, ago in seconds_ago.items():
        session[key] = time.time() - ago
    session.save()


def test_login_issues_a_new_session_key(client):
    client.get("/accounts/login/")
    client.cookies["sessionid"] = "attacker-chosen-key"
    make_user(Role.COUNSELLOR, username="fixated")
    client.post("/accounts/login/", {"username": "fixated", "password": PASSWORD})
    assert client.cookies["sessionid"].value != "attacker-chosen-key"


@override_settings(SESSION_IDLE_MINUTES=15)
def test_an_idle_session_ends_after_fifteen_minutes(client):
    signed_in(client)
    shift(client, **{LAST_SEEN: 14 * 60})
    assert client.get("/").status_code == 200  # 14 minutes: still in, and the clock restarts
    shift(client, **{LAST_SEEN: 15 * 60 + 1})
    response = client.get("/cases/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.get("/").status_code == 302  # really signed out


@override_settings(SESSION_ABSOLUTE_HOURS=10)
def test_a_busy_session_still_ends_after_the_absolute_limit(client):
    signed_in(client)
    shift(client, **{SIGNED_IN: 10 * 3600 + 1, LAST_SEEN: 1})
    assert client.get("/").status_code == 302


def test_a_disabled_users_sessions_end_at_once(client, django_user_model):
    signed_in(client, "leaving")
    django_user_model.objects.filter(username="leaving").update(is_active=False)
    assert client.get("/").status_code == 302


def test_signed_in_pages_are_never_cached(client):
    signed_in(client)
    assert client.get("/")["Cache-Control"] == "no-store"
    assert client.get("/cases/")["Cache-Control"] == "no-store"
