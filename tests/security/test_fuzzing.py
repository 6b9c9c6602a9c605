"""Generated input thrown at 47 forms and URL parameter sets (listed in the parametrize
below: every view that reads request data; sign-in, the second factor and
re-authentication are left to their own tests, since failures there lock the account
out): never a 500, never a partial write.

Each example sends hypothesis-generated values (any text, huge and negative numbers, odd
dates, NUL bytes, markup) for a view's own parameter names, as a supervisor who may use
them. A POST that does not succeed (no redirect, no 201) must leave every watched table as it was.
"""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import approvals
from accounts.models import ApprovalRequest, User
from accounts.roles import Role
from api.models import ApiToken
from casework.models import BreakGlass, Case, Client, Contact, Milestone
from imports.models import ImportBatch, PendingUpload
from indicators.models import Assessment, Direction, Indicator, ManualValue, Plan, Snapshot, Target
from meetings.models import ActionItem, AgendaItem, ExternalAttendance, Meeting
from outreach.models import Attendance, Programme, Session, Visit
from referrals.models import Referral, Transfer
from tests.factories import make_case

WATCHED = [
    Session,
    Attendance,
    AgendaItem,
    ActionItem,
    ExternalAttendance,
    Transfer,
    Referral,
    Visit,
    Meeting,
    Case,
    Client,
    Contact,
    Milestone,
    BreakGlass,
    Plan,
    Target,
    ManualValue,
    Assessment,
    Snapshot,
    ApiToken,
    PendingUpload,
    ImportBatch,
    ApprovalRequest,
    User,
]

values = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=400),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.sampled_from(
        [
            "",
            "0",
            "-1",
            "2025-02-30",
            "1900-01-01",
            "9999-12-31",
            "\x00",
            "<script>",
            "=1+1",
            "NaN",
            "1e309",
            "true",
        ]
    ),
    st.dates().map(lambda d: d.isoformat()),
)


def _counts() -> list[int]:
    return [model._default_manager.count() for model in WATCHED]


@pytest.fixture
def targets(world):
    """The world's centre with one record of every kind a fuzzed form writes to."""
    from django.utils import timezone

    from casework import services as casework_services
    from meetings import services as meeting_services
    from outreach import services as outreach_services

    org, supervisor = world.centre, world.supervisor
    case = make_case(org, summary="ファズ対象")
    plan = Plan.objects.create(name="ファズ計画", organisation=org, first_year=2024, last_year=2026)
    direction = Direction.objects.create(plan=plan, number=1, name="方向")
    meeting = meeting_services.plan_meeting(
        supervisor, kind="mdt_monthly", held_at=timezone.now(), legal_basis="internal"
    )
    programme = Programme.objects.create(kind="ibasho", name="居場所", organiser=org)
    admin, newcomer = world.admin, world.user(None, username="fuzz-new")
    return {
        "supervisor": supervisor,
        "case": case,
        "plan": plan,
        "indicator": Indicator.objects.create(
            direction=direction, code="1", name="手入力", unit="件"
        ),
        "meeting": meeting,
        "conference": meeting_services.plan_meeting(
            supervisor, kind="case_conference", held_at=timezone.now(), legal_basis="internal"
        ),
        "item": meeting_services.add_to_agenda(supervisor, meeting, case=case),
        "visit": outreach_services.plan_visit(
            supervisor, case, planned_start=timezone.now(), workers=[supervisor]
        ),
        "programme": programme,
        "session": outreach_services.add_session(
            supervisor, programme, held_on=timezone.localdate()
        ),
        "anonymous": casework_services.log_contact(supervisor, summary="ファズ対象の匿名相談"),
        "linked": casework_services.link_contact(
            supervisor, casework_services.log_contact(supervisor, summary="紐付け済み"), case
        ),
        "elsewhere": world.other,
        "auditor": world.auditor,
        "admin": admin,
        "newcomer": newcomer,
        "approval": approvals.request_role(actor=admin, target=newcomer, role=Role.COUNSELLOR),
    }


AUDIT_FILTERS = ["actor", "object_ref", "action", "start", "end", "page"]


def _endpoints(w):
    case, plan, indicator = w["case"], w["plan"], w["indicator"]
    meeting, item, visit = w["meeting"], w["item"], w["visit"]
    return {
        "case_export": (
            "get",
            reverse("casework:case_export", args=["csv"]),
            ["status", "worker", "municipality", "region", "no_contact_days", "code"],
        ),
        "contact_export": (
            "get",
            reverse("casework:contact_export"),
            ["fmt", "start", "end"],
        ),
        "identity_export": (
            "post",
            reverse("casework:identity_export"),
            ["kind", "fmt", "start", "end", "purpose"],
        ),
        "api_token": ("post", reverse("api_tokens:create"), ["name", "days"]),
        "import_upload": ("post", reverse("imports:upload"), ["kind", "file"]),
        "visit_checkin": (
            "post",
            reverse("outreach:visit_checkin", args=[visit.pk]),
            ["outcome", "consulter", "minutes", "travel_minutes", "notes"],
        ),
        "session_new": (
            "post",
            reverse("outreach:programme_detail", args=[w["programme"].pk]),
            ["held_on", "theme", "venue", "online"],
        ),
        "attendance": (
            "post",
            reverse("outreach:attendance", args=[w["session"].pk]),
            ["n-self-0", "n-family-0", "n-supporter-0", "n-other-0"],
        ),
        "agenda_add": (
            "post",
            reverse("meetings:agenda_add", args=[meeting.pk]),
            ["code", "reason"],
        ),
        "attendees": ("post", reverse("meetings:attendees", args=[meeting.pk]), ["attendees"]),
        "external_add": (
            "post",
            reverse("meetings:external_add", args=[meeting.pk]),
            ["organisation_type", "profession", "count"],
        ),
        "unregistered_cases": (
            "post",
            reverse("meetings:unregistered_cases", args=[w["conference"].pk]),
            ["count"],
        ),
        "minutes": (
            "post",
            reverse("meetings:minutes", args=[item.pk]),
            [
                "discussion",
                "decisions",
                "next_review_on",
                "take_on_mdt",
                "close_review",
                "action_description",
                "action_assignee",
                "action_due_on",
            ],
        ),
        "transfer": ("post", reverse("referrals:transfer", args=[case.code]), ["to_organisation"]),
        "case_edit": (
            "post",
            reverse("casework:case_edit", args=[case.code]),
            [
                "status",
                "withdrawal_band",
                "summary",
                "sharing_consent_on",
                "lead_workers",
                "version",
            ],
        ),
        "case_close": (
            "post",
            reverse("casework:case_close", args=[case.code]),
            ["reason", "closed_on", "version"],
        ),
        "case_merge": ("post", reverse("casework:case_merge", args=[case.code]), ["absorbed_code"]),
        "access_review": ("get", reverse("casework:access_review"), ["start", "end"]),
        "break_glass_review": ("post", reverse("casework:break_glass_review"), ["grant", "note"]),
        "unlock": ("post", reverse("accounts:unlock"), ["kind", "value"]),
        "preferences": ("post", reverse("accounts:preferences"), ["work_digest"]),
        "progress_print": (
            "get",
            reverse("indicators:progress_print", args=[plan.pk]),
            ["year", "as_of"],
        ),
        "metric_export": (
            "get",
            reverse("indicators:metric_export", args=["people_supported", "xlsx"]),
            ["year", "as_of", "start", "end", "scope", "region", "organisation", "p_channel"],
        ),
        "audit_browser": ("get", reverse("audit:browser"), AUDIT_FILTERS, "auditor"),
        "approval_decide": (
            "post",
            reverse("accounts:approval_decide", args=[w["approval"].pk]),
            ["decision"],
        ),
        "admin_user_change": (
            "post",
            reverse("admin:accounts_user_change", args=[w["newcomer"].pk]),
            ["username", "display_name", "email", "organisation", "profession", "roles"],
            "admin",
        ),
        "admin_user_add": (
            "post",
            reverse("admin:accounts_user_add"),
            ["username", "display_name", "organisation", "profession", "email"],
            "admin",
        ),
        "audit_export": ("get", reverse("audit:export"), AUDIT_FILTERS, "auditor"),
        "case_list": (
            "get",
            reverse("casework:case_list"),
            [
                "code",
                "status",
                "worker",
                "municipality",
                "region",
                "mdt_supported",
                "no_contact_days",
                "page",
            ],
        ),
        "contact_new": (
            "post",
            reverse("casework:contact_new"),
            [
                "case_code",
                "occurred_at",
                "channel",
                "consulter",
                "kind",
                "minutes",
                "topics",
                "summary",
                "follow_up_due",
                "referring_organisation",
            ],
        ),
        "contact_correct": (
            "post",
            reverse("casework:contact_correct", args=[w["anonymous"].pk]),
            ["occurred_at", "channel", "minutes", "summary", "follow_up_due", "correction_reason"],
        ),
        "contact_link": (
            "post",
            reverse("casework:contact_link", args=[w["anonymous"].pk]),
            ["case_code"],
        ),
        "contact_unlink": (
            "post",
            reverse("casework:contact_unlink", args=[w["linked"].pk]),
            ["reason"],
        ),
        "case_link_anonymous": (
            "post",
            reverse("casework:case_link_anonymous", args=[case.code]),
            ["contact"],
        ),
        "identity_print": (
            "post",
            reverse("casework:case_print", args=[case.code]) + "?identity=1",
            ["purpose"],
        ),
        "draft_save": (
            "post",
            reverse("casework:draft_save"),
            ["_draft_path", "summary", "minutes", "channel"],
        ),
        "case_search": (
            "post",
            reverse("casework:case_search"),
            ["name_kana", "phone", "birth_date"],
        ),
        "case_new": (
            "post",
            reverse("casework:case_new"),
            [
                "name",
                "name_kana",
                "birth_date",
                "phone",
                "gender",
                "municipality",
                "summary",
                "withdrawal_band",
            ],
        ),
        "milestone": (
            "post",
            reverse("casework:milestone_new", args=[case.code]),
            ["kind", "achieved_on", "note"],
        ),
        "break_glass": ("post", reverse("casework:break_glass"), ["code", "reason"]),
        "progress": ("get", reverse("indicators:progress", args=[plan.pk]), ["year", "as_of"]),
        "progress_csv": (
            "get",
            reverse("indicators:progress_export", args=[plan.pk, "csv"]),
            ["year", "as_of"],
        ),
        "metric": (
            "get",
            reverse("indicators:metric", args=["contacts"]),
            [
                "year",
                "as_of",
                "start",
                "end",
                "scope",
                "region",
                "organisation",
                "p_channel",
                "p_anonymous",
            ],
        ),
        "indicator_edit": (
            "post",
            reverse("indicators:indicator_edit", args=[plan.pk, indicator.pk]) + "?year=2025",
            ["target", "manual_value", "source_note", "status_override", "override_reason"],
        ),
        "submit": ("post", reverse("indicators:submit", args=[plan.pk]), ["year", "as_of", "note"]),
        "meetings_new": (
            "post",
            reverse("meetings:new"),
            ["kind", "held_at", "place", "legal_basis"],
        ),
        "identity_edit": (
            "post",
            reverse("casework:identity_edit", args=[case.code]),
            ["name", "name_kana", "birth_date", "phone", "address", "notes", "version"],
        ),
        "referral_new": (
            "post",
            reverse("referrals:new", args=[case.code]),
            ["to_organisation", "kind", "purpose", "consent_given", "consent_on", "consent_method"],
        ),
        "visit_new": (
            "post",
            reverse("outreach:visit_new"),
            ["case_code", "kind", "destination", "purpose", "planned_start", "workers"],
        ),
    }


@pytest.mark.parametrize(
    "name",
    [
        "case_list",
        "contact_new",
        "draft_save",
        "identity_print",
        "contact_unlink",
        "case_link_anonymous",
        "case_new",
        "milestone",
        "break_glass",
        "progress",
        "progress_csv",
        "metric",
        "indicator_edit",
        "submit",
        "meetings_new",
        "identity_edit",
        "referral_new",
        "visit_new",
        "visit_checkin",
        "session_new",
        "attendance",
        "agenda_add",
        "attendees",
        "external_add",
        "unregistered_cases",
        "minutes",
        "transfer",
        "case_edit",
        "case_close",
        "case_merge",
        "access_review",
        "break_glass_review",
        "unlock",
        "preferences",
        "progress_print",
        "metric_export",
        "audit_browser",
        "audit_export",
        "case_export",
        "contact_export",
        "identity_export",
        "api_token",
        "import_upload",
        "approval_decide",
        "admin_user_change",
        "admin_user_add",
    ],
)
def test_generated_input_never_breaks_a_view(targets, name):
    method, url, fields, *who = _endpoints(targets)[name]
    client = HttpClient()
    client.force_login(targets[who[0] if who else "supervisor"])

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(data=st.dictionaries(st.sampled_from(fields), values, max_size=len(fields)))
    def run(data):
        before = _counts()
        send = client.get if method == "get" else client.post
        response = send(url, data)
        assert response.status_code < 500, (name, data)
        if method == "post" and response.status_code not in (201, 302):
            assert _counts() == before, (name, data)

    run()


def test_a_nul_character_in_any_parameter_is_a_400_with_the_reason(client, targets):
    # Found by the fuzzing above: a parameter read without a form reached PostgreSQL,
    # which refuses NUL in text. The middleware now answers every such request.
    client.force_login(targets["supervisor"])
    meeting = targets["meeting"]
    response = client.post(reverse("meetings:agenda_add", args=[meeting.pk]), {"code": "C1\x00"})
    assert response.status_code == 400
    assert "NUL" in response.content.decode()
    assert client.get(reverse("casework:case_list"), {"code": "\x00"}).status_code == 400


def test_a_number_too_large_for_the_database_is_a_400(client, targets):
    # Found by the fuzzing above on SQLite: an attendee id of 2**63 overflowed the driver.
    # PostgreSQL's backend finds no such row, so the form refuses the choice instead.
    from django.db import connection

    from meetings.models import Meeting

    client.force_login(targets["supervisor"])
    meeting = Meeting.objects.get(pk=targets["meeting"].pk)
    before = set(meeting.attendees.values_list("pk", flat=True))
    url = reverse("meetings:attendees", args=[meeting.pk])
    response = client.post(url, {"attendees": str(2**63)})
    if connection.vendor == "sqlite":
        assert response.status_code == 400
        assert "大きすぎます" in response.content.decode()
    else:
        assert response.status_code in (200, 302)
    assert set(meeting.attendees.values_list("pk", flat=True)) == before  # nothing changed
