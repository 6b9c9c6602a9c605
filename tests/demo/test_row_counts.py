"""The demo seeds the same rows as before it moved into its own app: exact per-model counts.

The other demo tests check shapes and ranges; this one pins the counts. The figures are
those of `seed_demo` at commit 28c818f (the seeding still in the domain apps), run on the
same frozen clock: the data depend on the day (the demo spans the previous and current
fiscal year), so the clock is fixed. A change in a figure means the demo now seeds
different data; a deliberate change to the demo updates the figures with it.

On PostgreSQL the outreach demo's visits depend on row order: it takes "the first 30" of
the outreach worker's open cases from an unordered query, which SQLite answers in
insertion order and PostgreSQL in the table's physical order (after other tests have
written and rolled back, not insertion order). Which cases come first decides how many
visits are done (each logs a contact and audit events), and so the draws after them.
There those counts are left out; everything else is exact on both databases.
"""

from __future__ import annotations

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test.utils import override_settings
from django.utils import timezone

pytestmark = pytest.mark.django_db

FROZEN = datetime.datetime(2025, 11, 12, 10, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
# The counts that follow the order PostgreSQL returns the outreach worker's cases in.
ROW_ORDER_DEPENDENT = {
    "audit.Event",
    "casework.Contact",
    "casework.HistoricalContact",
    "outreach.Attendance",
    "outreach.HistoricalAttendance",
    "outreach.HistoricalVisit",
}
AREAS = {"accounts", "audit", "casework", "outreach", "meetings", "referrals", "indicators"}

EXPECTED = {
    "accounts.HistoricalOrganisation": 34,
    "accounts.HistoricalRegion": 5,
    "accounts.HistoricalUser": 8,
    "accounts.Organisation": 34,
    "accounts.Region": 5,
    "accounts.User": 8,
    "audit.Event": 286,
    "casework.Case": 330,
    "casework.Client": 275,
    "casework.Contact": 3007,
    "casework.DataKey": 615,
    "casework.HistoricalCase": 330,
    "casework.HistoricalCase_lead_workers": 333,
    "casework.HistoricalClient": 275,
    "casework.HistoricalContact": 3007,
    "casework.HistoricalMilestone": 60,
    "casework.Milestone": 60,
    "indicators.Assessment": 2,
    "indicators.Direction": 9,
    "indicators.HistoricalAssessment": 2,
    "indicators.HistoricalIndicator": 23,
    "indicators.HistoricalManualValue": 9,
    "indicators.HistoricalPlan": 3,
    "indicators.HistoricalTarget": 21,
    "indicators.Indicator": 23,
    "indicators.ManualValue": 9,
    "indicators.Plan": 3,
    "indicators.Target": 21,
    "meetings.ActionItem": 36,
    "meetings.AgendaItem": 36,
    "meetings.ExternalAttendance": 18,
    "meetings.HistoricalActionItem": 36,
    "meetings.HistoricalAgendaItem": 72,
    "meetings.HistoricalMeeting": 36,
    "meetings.HistoricalMeeting_attendees": 45,
    "meetings.Meeting": 17,
    "outreach.Attendance": 97,
    "outreach.HistoricalAttendance": 97,
    "outreach.HistoricalProgramme": 4,
    "outreach.HistoricalSession": 16,
    "outreach.HistoricalVisit": 71,
    "outreach.Programme": 4,
    "outreach.Session": 16,
    "outreach.Visit": 30,
    "referrals.HistoricalReferral": 18,
    "referrals.Referral": 7,
    "referrals.ReferralGroupObjectPermission": 1,
    "referrals.ReferralTransition": 18,
}


def row_counts() -> dict[str, int]:
    counted = (
        (model._meta.label, model._default_manager.count())
        for model in apps.get_models()
        if model._meta.app_label in AREAS
    )
    return {label: count for label, count in counted if count}


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
def test_the_demo_seeds_exactly_the_rows_it_seeded_before(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: FROZEN)
    call_command("seed_demo", stdout=io.StringIO())
    counts, expected = row_counts(), EXPECTED
    if connection.vendor == "postgresql":
        counts, expected = (
            {label: n for label, n in figures.items() if label not in ROW_ORDER_DEPENDENT}
            for figures in (counts, expected)
        )
    assert counts == expected
