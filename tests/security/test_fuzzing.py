"""Generated input thrown at 14 forms and URL parameter sets: never a 500, never a partial
write.

Each example sends hypothesis-generated values (any text, huge and negative numbers, odd
dates, NUL bytes, markup) for a view's own parameter names, as a supervisor who may use
them. A POST that does not succeed (no redirect) must leave every watched table as it was.
"""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.roles import Role
from casework.models import BreakGlass, Case, Client, Contact, Milestone
from indicators.models import Assessment, Direction, Indicator, ManualValue, Plan, Snapshot, Target
from meetings.models import Meeting
from outreach.models import Visit
from referrals.models import Referral
from tests.factories import make_case, make_organisation, make_user

WATCHED = [
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
    return [model.objects.count() for model in WATCHED]


@pytest.fixture
def world(db):
    org = make_organisation(name="ファズ")
    plan = Plan.objects.create(name="ファズ計画", organisation=org, first_year=2024, last_year=2026)
    direction = Direction.objects.create(plan=plan, number=1, name="方向")
    return {
        "supervisor": make_user(Role.SUPERVISOR, organisation=org, username="fuzz-sv"),
        "case": make_case(org, summary="ファズ対象"),
        "plan": plan,
        "indicator": Indicator.objects.create(
            direction=direction, code="1", name="手入力", unit="件"
        ),
    }


def _endpoints(w):
    case, plan, indicator = w["case"], w["plan"], w["indicator"]
    return {
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
            ["case_code", "kind", "destination", "planned_start", "workers"],
        ),
    }


@pytest.mark.parametrize(
    "name",
    [
        "case_list",
        "contact_new",
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
    ],
)
def test_generated_input_never_breaks_a_view(world, name):
    method, url, fields = _endpoints(world)[name]
    client = HttpClient()
    client.force_login(world["supervisor"])

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
        if method == "post" and response.status_code != 302:
            assert _counts() == before, (name, data)

    run()
