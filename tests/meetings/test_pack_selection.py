"""The meeting pack's selection rules: why each case is suggested, consent, a fixed number of
queries, and a printed pack without identity."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from casework import services as casework
from casework.models import Case, Contact, Milestone
from meetings import services
from meetings.models import Meeting
from meetings.pack import build_pack
from tests.meetings.helpers import CANARY_NAME, at, case, meeting

pytestmark = pytest.mark.django_db


def test_the_pack_selects_by_every_rule_and_shows_history_since_the_last_review(world):
    previous_day, day = datetime.date(2024, 5, 10), datetime.date(2024, 6, 10)
    recent = at(datetime.date(2024, 6, 1))
    old = case(world, opened=datetime.date(2023, 1, 1), last_contact=recent)
    previous = meeting(world, previous_day)
    reviewed = case(world, opened=datetime.date(2023, 1, 1), last_contact=recent)
    not_due = case(world, opened=datetime.date(2023, 1, 1), last_contact=recent)
    item = services.add_to_agenda(world.supervisor, previous, case=reviewed)
    later_item = services.add_to_agenda(world.supervisor, previous, case=not_due)
    services.record_minutes(world.supervisor, item, next_review_on=datetime.date(2024, 6, 1))
    services.record_minutes(world.supervisor, later_item, next_review_on=datetime.date(2024, 9, 1))
    services.add_action(
        world.supervisor,
        item,
        description="家族面談",
        assignee=world.counsellor,
        due_on=datetime.date(2024, 5, 31),
    )
    flagged = case(world, opened=datetime.date(2023, 1, 1), last_contact=recent, mdt_supported=True)
    new = case(world, opened=datetime.date(2024, 5, 20), last_contact=recent)
    silent = case(
        world, opened=datetime.date(2023, 1, 1), last_contact=at(datetime.date(2024, 3, 1))
    )
    closed = case(
        world,
        opened=datetime.date(2024, 5, 20),
        status=Case.Status.CLOSED,
        closed_on=datetime.date(2024, 5, 25),
        closure_reason="goal_reached",
    )
    casework.open_case(
        world.other_counsellor, identity={"name": "他組織"}, case_fields={"mdt_supported": True}
    )
    # History: before the last review excluded, after it included.
    Contact.objects.create(
        case=reviewed,
        data_key=reviewed.data_key,
        organisation=world.centre,
        staff=world.counsellor,
        occurred_at=at(datetime.date(2024, 5, 1)),
        summary="前",
    )
    Contact.objects.create(
        case=reviewed,
        data_key=reviewed.data_key,
        organisation=world.centre,
        staff=world.counsellor,
        occurred_at=at(datetime.date(2024, 5, 25)),
        summary="後",
    )
    Milestone.objects.create(
        case=reviewed,
        data_key=reviewed.data_key,
        kind="ibasho",
        achieved_on=datetime.date(2024, 5, 30),
        recorded_by=world.counsellor,
    )

    this = meeting(world, day)
    services.add_to_agenda(world.supervisor, this, case=old)  # added by hand
    pack = build_pack(world.supervisor, this, no_contact_days=60)

    reasons = {entry.case.code: entry.reasons for entry in pack.cases}
    assert set(reasons) == {old.code, reviewed.code, flagged.code, new.code, silent.code}
    assert closed.code not in reasons and not_due.code not in reasons
    assert reasons[old.code] == []  # on the agenda by hand only
    assert reasons[reviewed.code] == ["期限切れの対応事項 1件", "見直し日が到来"]
    assert reasons[flagged.code] == ["多職種連携チーム支援"]
    assert reasons[new.code] == ["前回会議以降の新規ケース"]
    assert reasons[silent.code] == ["60日以上相談なし"]
    assert pack.cases[0].case == old and pack.cases[0].item is not None  # agenda first
    entry = next(e for e in pack.cases if e.case == reviewed)
    assert [c.summary for c in entry.contacts] == ["後"]
    assert len(entry.milestones) == 1
    assert [a.description for a in pack.open_actions] == ["家族面談"]


def test_the_pack_runs_a_fixed_number_of_queries(world):
    def count(n):
        for _ in range(n):
            case(world, opened=datetime.date(2023, 1, 1), mdt_supported=True)
        this = meeting(world, datetime.date(2024, 6, 10))
        with CaptureQueriesContext(connection) as captured:
            build_pack(world.supervisor, this)
        return len(captured)

    assert count(3) == count(30)


def test_a_consent_needing_meeting_leaves_out_cases_without_consent_and_says_why(world):
    without = case(world, opened=datetime.date(2023, 1, 1), mdt_supported=True)
    with_consent = case(
        world,
        opened=datetime.date(2023, 1, 1),
        mdt_supported=True,
        sharing_consent_on=datetime.date(2024, 1, 1),
    )
    this = meeting(
        world, datetime.date(2024, 6, 10), legal_basis=Meeting.LegalBasis.CONSENT_REQUIRED
    )
    pack = build_pack(world.supervisor, this)
    assert [e.case for e in pack.cases] == [with_consent]
    assert pack.left_out == [(without, "情報共有への同意が記録されていません")]
    with pytest.raises(Exception, match="同意が記録されていません"):
        services.add_to_agenda(world.supervisor, this, case=without)


def test_the_printable_pack_contains_no_identity(client, world):
    subject = case(world, opened=datetime.date(2023, 1, 1), mdt_supported=True)
    casework.log_contact(world.counsellor, case=subject, summary="面談した")
    this = meeting(world, timezone.localdate() + datetime.timedelta(days=5))
    services.add_to_agenda(world.supervisor, this, case=subject)
    client.force_login(world.supervisor)
    page = client.get(reverse("meetings:print", kwargs={"pk": this.pk})).content.decode()
    assert subject.code in page and "面談した" in page
    assert CANARY_NAME not in page and "会議" in page


def test_a_case_opened_within_the_window_is_not_flagged_for_lack_of_contact(world):
    # The meeting is on 10 June 2024 with a 60-day window: the cut-off is 11 April 2024.
    day = datetime.date(2024, 6, 10)
    opened_today = case(world, opened=day)
    opened_a_month_ago = case(world, opened=datetime.date(2024, 5, 10))
    opened_long_ago = case(world, opened=datetime.date(2024, 2, 1))
    pack = build_pack(world.supervisor, meeting(world, day), no_contact_days=60)
    reasons = {entry.case.code: entry.reasons for entry in pack.cases}
    assert "60日以上相談なし" not in reasons.get(opened_today.code, [])
    assert "60日以上相談なし" not in reasons.get(opened_a_month_ago.code, [])
    assert "60日以上相談なし" in reasons[opened_long_ago.code]
