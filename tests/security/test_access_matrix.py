"""Every view is in the access matrix, and every entry holds for every role."""

from __future__ import annotations

import sys
import types
import uuid
from types import SimpleNamespace

import pytest
from django.http import HttpResponse
from django.test import override_settings
from django.urls import include, path, reverse
from django.utils import timezone

from accounts import approvals
from accounts.access import access_matrix, iter_view_names, rule_for
from accounts.roles import Role
from api.models import ApiToken
from audit.models import Action, Event
from casework import services
from casework.periods import fiscal_year
from indicators.models import Direction, Indicator, Plan, Snapshot
from meetings import services as meeting_services
from outreach import services as outreach_services
from outreach.models import Programme
from referrals import services as referral_services
from tests.factories import make_user


def last_year_query() -> dict:
    return {"year": fiscal_year(timezone.localdate()) - 1}


# URL names probed with a request for every role. "kwargs" takes the `scene` fixture;
# "object" names what the object rule needs beyond the matrix: a permission giving the
# baseline (a role allowed by the matrix without it, such as an MDT member without a
# grant, gets 404), or "grant" for views that only an object grant opens.
CASE = {"kwargs": lambda w: {"code": w.case.code}, "object": "casework.view_org_cases"}
REFERRAL = {"kwargs": lambda w: {"pk": w.referral.pk}}
PLAN = {"kwargs": lambda w: {"pk": w.plan.pk}}
INDICATOR = {"kwargs": lambda w: {"plan_pk": w.plan.pk, "pk": w.indicator.pk}}
EMPTY_TABLE = {"title": "t", "heading": [], "columns": [], "rows": []}
# An import step names an upload (or batch) of the user's own: any other id is a 404.
UPLOAD = {"kwargs": lambda w: {"pk": uuid.uuid4()}, "object": "grant"}
PROBES: dict[str, dict] = {
    "casework:case_list": {},
    "casework:work_queue": {},
    "casework:case_new": {},
    "casework:case_search": {"method": "post", "data": {"name_kana": "ケンサク"}},
    "casework:contact_new": {},
    "casework:draft_save": {
        "method": "post",
        "data": {"_draft_path": "/contacts/new/", "summary": "下書き"},
        "refused": "casework.add_contact",
    },
    "casework:draft_discard": {"method": "post", "data": {"_draft_path": "/contacts/new/"}},
    "casework:case_detail": CASE,
    "casework:case_print": CASE,
    "casework:case_edit": CASE,
    "casework:case_close": CASE,
    "casework:case_merge": CASE,
    "casework:identity_edit": CASE,
    "casework:identity_reveal": {**CASE, "method": "post"},
    "casework:milestone_new": {**CASE, "method": "post"},
    "casework:case_export": {"kwargs": lambda w: {"fmt": "csv"}},
    "casework:contact_export": {},
    "casework:identity_export": {},
    "casework:break_glass": {},
    "casework:access_review": {},
    "audit:browser": {},
    "audit:export": {},
    "audit:verify": {"method": "post"},
    "casework:break_glass_review": {},
    # Correcting someone else's contact: supervisors only (services.may_correct).
    "casework:contact_correct": {
        "kwargs": lambda w: {"pk": w.contact.pk},
        "refused": "casework.supervise_case",
    },
    "casework:contact_link": {
        "kwargs": lambda w: {"pk": w.anonymous.pk},
        "method": "post",
        "data_from": lambda w: {"case_code": w.case.code},
    },
    "casework:contact_unlink": {
        "kwargs": lambda w: {"pk": w.linked.pk},
        "refused": "casework.supervise_case",
    },
    "casework:case_link_anonymous": CASE,
    "casework:follow_up_done": {
        "kwargs": lambda w: {"pk": w.contact.pk},
        "method": "post",
        "object": "casework.view_org_cases",
    },
    "outreach:schedule": {},
    "outreach:visit_new": {},
    "outreach:visit_detail": {
        "kwargs": lambda w: {"pk": w.visit.pk},
        "object": "casework.view_org_cases",
    },
    "outreach:visit_start": {
        "kwargs": lambda w: {"pk": w.visit.pk},
        "method": "post",
        "object": "casework.view_org_cases",
    },
    "outreach:visit_checkin": {
        "kwargs": lambda w: {"pk": w.visit.pk},
        "method": "post",
        "object": "casework.view_org_cases",
    },
    "outreach:visit_cancel": {
        "kwargs": lambda w: {"pk": w.visit.pk},
        "method": "post",
        "object": "casework.view_org_cases",
    },
    "outreach:programme_list": {},
    "outreach:programme_detail": {"kwargs": lambda w: {"pk": w.programme.pk}},
    "outreach:attendance": {"kwargs": lambda w: {"pk": w.session.pk}},
    "meetings:list": {},
    "meetings:new": {},
    # A meeting the user neither runs nor attends (an MDT member here) is a 404.
    "meetings:detail": {
        "kwargs": lambda w: {"pk": w.meeting.pk},
        "object": "meetings.change_meeting",
    },
    "meetings:print": {"kwargs": lambda w: {"pk": w.meeting.pk}},
    "meetings:agenda_add": {"kwargs": lambda w: {"pk": w.meeting.pk}, "method": "post"},
    # The scene's item is on an MDT meeting: a liaison of the host (who runs its meetings
    # but keeps no cases) reaches it by no path, and gets 404.
    "meetings:agenda_drop": {
        "kwargs": lambda w: {"pk": w.item.pk},
        "method": "post",
        "object": "casework.view_org_cases",
    },
    "meetings:attendees": {"kwargs": lambda w: {"pk": w.meeting.pk}, "method": "post"},
    "meetings:external_add": {"kwargs": lambda w: {"pk": w.meeting.pk}, "method": "post"},
    "meetings:unregistered_cases": {"kwargs": lambda w: {"pk": w.meeting.pk}, "method": "post"},
    # Minutes follow the case: an MDT member of the host without an agenda grant gets 404.
    "meetings:minutes": {
        "kwargs": lambda w: {"pk": w.item.pk},
        "object": "casework.view_org_cases",
    },
    "meetings:action_done": {
        "kwargs": lambda w: {"pk": w.action.pk},
        "method": "post",
        "object": "casework.supervise_case",  # the scene's action is the supervisor's own
    },
    "referrals:lists": {},
    "referrals:new": CASE,
    "referrals:transfer": CASE,
    "referrals:detail": REFERRAL,
    "referrals:shared": {**REFERRAL, "object": "grant"},
    "referrals:move": {
        "kwargs": lambda w: {"pk": w.referral.pk, "action": "send"},
        "method": "post",
    },
    "referrals:consent_withdraw": {**REFERRAL, "method": "post"},
    "referrals:transfer_end_access": {"kwargs": lambda w: {"pk": w.transfer.pk}, "method": "post"},
    "indicators:plans": {},
    "indicators:progress": PLAN,
    "indicators:progress_print": PLAN,
    "indicators:progress_export": {"kwargs": lambda w: {"pk": w.plan.pk, "fmt": "csv"}},
    "indicators:submit": {
        **PLAN,
        "method": "post",
        "data": {"year": timezone.localdate().year - 1, "as_of": "2000-01-01"},
    },
    "indicators:sheet": INDICATOR,
    "indicators:indicator_edit": INDICATOR,
    "indicators:snapshot": {"kwargs": lambda w: {"pk": w.snapshot.pk}},
    # Last year's figures: a closed year, published in the scene.
    "indicators:metric": {"kwargs": lambda w: {"key": "contacts"}, "query": last_year_query},
    "indicators:metric_export": {
        "kwargs": lambda w: {"key": "contacts", "fmt": "xlsx"},
        "query": last_year_query,
    },
    "imports:upload": {},
    "imports:mapping": UPLOAD,
    "imports:review": UPLOAD,
    "imports:cancel": {**UPLOAD, "method": "post"},
    "imports:done": UPLOAD,
    "admin:indicators_plan_changelist": {},
    "admin:indicators_indicator_changelist": {},
    "home": {},
    "accounts:lockouts": {},
    "accounts:unlock": {
        "method": "post",
        "data": {"kind": "username", "value": "nobody-locked"},
        "object": "grant",
    },
    "accounts:approvals": {},
    # A request only its entitled approvers may decide: the scene's is for the supervisor
    # of its organisation; everyone else (the requester included) gets 404.
    "accounts:approval_decide": {
        "kwargs": lambda w: {"pk": w.approval.pk},
        "method": "post",
        "data": {"decision": "refuse"},
        "object": "accounts.approve_staff_change",
    },
    "health": {},
    "accounts:login": {},
    "accounts:logout": {"method": "post"},
    "accounts:password_change": {},
    "accounts:two_factor_setup": {},
    "accounts:two_factor_verify": {},
    "accounts:reauthenticate": {},
    "accounts:session_status": {},
    "accounts:session_extend": {"method": "post"},
    "accounts:password_change_done": {},
    "accounts:preferences": {},
    "set_language": {"method": "post", "data": {"language": "en"}},
    "api_tokens:list": {},
    "api_tokens:create": {"method": "post", "data": {"name": "連携", "days": "30"}},
    "api_tokens:revoke": {
        "kwargs": lambda w: {"pk": w.token.pk},
        "method": "post",
        "object": "grant",
    },
    "api:schema": {},
    "api:metric_list": {},
    "api:metric_detail": {"kwargs": lambda w: {"key": "contacts"}, "query": last_year_query},
    "api:plan_list": {},
    "api:plan_progress": PLAN,
    "api:referral_inbox": {},
    "api:referral_outbox": {},
    "api:referral_detail": REFERRAL,
    "api:referral_transition": {
        **REFERRAL,
        "method": "post",
        "json": True,
        "data": {"to": "withdrawn"},
    },
    "api:contact_create": {"method": "post", "json": True, "data": {"channel": "phone"}},
    "admin:index": {},
    "admin:accounts_user_changelist": {},
    "admin:accounts_organisation_changelist": {},
    "admin:accounts_region_changelist": {},
    "admin:auth_group_changelist": {},
    "admin:outreach_programme_changelist": {},
}

ANONYMOUS = None


def unregistered_views(urlconf: str | None = None) -> list[str]:
    return [name for name, _route in iter_view_names(urlconf) if rule_for(name) is None]


def test_every_url_pattern_has_an_entry_in_the_access_matrix():
    assert unregistered_views() == []


def test_every_matrix_entry_names_a_real_view_or_namespace():
    names = {name for name, _ in iter_view_names()}
    namespaces = {name.rpartition(":")[0] for name in names}
    for key in access_matrix():
        if key.endswith(":*"):
            assert key[:-2] in namespaces, key
        else:
            assert key in names, key


def _throwaway_urlconf() -> str:
    module = types.ModuleType("tests.security.throwaway_urls")

    def throwaway(request):
        return HttpResponse("should never be served")

    module.urlpatterns = [  # type: ignore[attr-defined]
        path("", include("config.urls")),
        path("throwaway/", throwaway, name="throwaway"),
    ]
    sys.modules[module.__name__] = module
    return module.__name__


def test_a_view_added_without_an_entry_is_reported():
    assert unregistered_views(_throwaway_urlconf()) == ["throwaway"]


@pytest.mark.django_db
def test_a_view_added_without_an_entry_is_refused_to_everybody_and_audited(client):
    superuser = make_user(Role.SYSTEM_ADMIN, is_superuser=True)
    client.force_login(superuser)
    with override_settings(ROOT_URLCONF=_throwaway_urlconf()):
        response = client.get("/throwaway/")
    assert response.status_code == 403
    assert b"should never be served" not in response.content
    denied = Event.objects.get(action=Action.PERMISSION_DENIED)
    assert denied.object_ref == "throwaway"
    assert denied.detail["reason"] == "not in the access matrix"


@pytest.fixture
def scene(world):
    """The world's centre holding a case with a client and a contact awaiting follow-up,
    and one record of every kind a probe names."""
    org, author, supervisor, elsewhere = (
        world.centre,
        world.counsellor,
        world.supervisor,
        world.other,
    )
    case = services.open_case(author, identity={"name": "試験 花子"}, case_fields={})
    contact = services.log_contact(
        author, case=case, follow_up_due=timezone.localdate(), summary="記録"
    )
    anonymous = services.log_contact(author, summary="匿名の記録")
    linked = services.link_contact(author, services.log_contact(author, summary="後で"), case)
    referral = referral_services.create_referral(
        author, case, to_organisation=elsewhere, kind="residence", purpose="目的"
    )
    referral = referral_services.move(author, referral, to_status="sent")
    moved = services.open_case(author, identity={"name": "移管 試験"}, confirm_duplicate=True)
    transfer = referral_services.transfer_case(supervisor, moved, to_organisation=elsewhere)
    visit = outreach_services.plan_visit(
        author, case, planned_start=timezone.now(), workers=[author]
    )
    programme = Programme.objects.create(kind="ibasho", name="居場所", organiser=org)
    this_year = fiscal_year(timezone.localdate())
    session = outreach_services.add_session(supervisor, programme, held_on=timezone.localdate())
    meeting = meeting_services.plan_meeting(
        supervisor, kind="mdt_monthly", held_at=timezone.now(), legal_basis="internal"
    )
    item = meeting_services.add_to_agenda(supervisor, meeting, case=case)
    action = meeting_services.add_action(
        supervisor, item, description="対応", assignee=supervisor, due_on=timezone.localdate()
    )
    plan = Plan.objects.create(
        name="計画", organisation=org, first_year=this_year - 1, last_year=this_year + 1
    )
    direction = Direction.objects.create(plan=plan, number=1, name="方向")
    indicator = Indicator.objects.create(
        direction=direction, code="1", name="相談件数", unit="件", metric="contacts"
    )
    snapshot = Snapshot.objects.create(
        plan=plan,
        fiscal_year=this_year,
        as_of=timezone.localdate(),
        figures={"table": EMPTY_TABLE, "public_table": EMPTY_TABLE, "rows": {}},
        submitted_by=supervisor,
    )
    world.publish(this_year - 1, "contacts")  # what viewers outside the centre read
    token, _raw = ApiToken.issue(author, name="連携", days=30)
    requester, newcomer = world.admin, world.user(None)
    approval = approvals.request_role(actor=requester, target=newcomer, role=Role.COUNSELLOR)
    return SimpleNamespace(
        world=world,
        org=org,
        approval=approval,
        token=token,
        plan=plan,
        indicator=indicator,
        snapshot=snapshot,
        meeting=meeting,
        item=item,
        action=action,
        case=case,
        contact=contact,
        anonymous=anonymous,
        linked=linked,
        referral=referral,
        transfer=transfer,
        visit=visit,
        programme=programme,
        session=session,
    )


def _request(client, name: str, probe: dict, scene):
    kwargs = probe["kwargs"](scene) if "kwargs" in probe else None
    url = reverse(name, kwargs=kwargs)
    if probe.get("method") == "post" and probe.get("json"):
        return client.post(url, probe.get("data", {}), content_type="application/json")
    if probe.get("method") == "post":
        data = probe["data_from"](scene) if "data_from" in probe else probe.get("data", {})
        return client.post(url, data)
    return client.get(url, probe["query"]() if "query" in probe else None)


@pytest.mark.parametrize("role", [ANONYMOUS, *Role], ids=lambda r: r or "anonymous")
@pytest.mark.parametrize("name", sorted(PROBES))
def test_each_role_gets_exactly_what_the_matrix_allows(client, scene, role, name):
    rule = rule_for(name)
    probe = PROBES[name]
    user = None
    if role is not None:
        user = scene.world.user(role)  # a member of the centre without a record of its own
        client.force_login(user)
    allowed = rule.public or (user is not None and rule.allows(user))

    response = _request(client, name, probe, scene)

    assert response.status_code != 500
    needs_object = probe.get("object")
    if allowed and needs_object and (needs_object == "grant" or not user.has_perm(needs_object)):
        assert response.status_code == 404
    elif allowed and "refused" in probe and not user.has_perm(probe["refused"]):
        assert response.status_code == 403  # the object rule refuses what the matrix allows
    elif allowed:
        assert response.status_code in (200, 201, 302), response.status_code
        if response.status_code == 302:  # a redirect, but not the one that asks for login
            assert "?next=" not in response["Location"]
    elif role is None and response.wsgi_request.path.startswith("/api/"):
        assert response.status_code == 401  # the API answers, it does not send to a page
        assert response["WWW-Authenticate"].startswith("Bearer")
    elif role is None:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
    else:
        assert response.status_code == 403


def test_the_probes_cover_every_matrix_entry_without_arguments():
    names = {name for name, route in iter_view_names() if "<" not in route}
    covered = {n for n in names if n in PROBES or rule_for(n) == access_matrix().get("admin:*")}
    assert names - covered == set()
