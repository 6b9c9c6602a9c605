"""Access review on crafted audit events (who, how often, outside assignment, at night,
break-glass; the reviewed mark is itself an event), and the auditors' browser (filters,
chain verification from the page, audited CSV export)."""

from __future__ import annotations

import csv
import datetime
import io
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import Action, Event
from audit.services import record
from tests.factories import make_case, make_client, make_organisation, make_user

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def crafted(world, monkeypatch, settings):
    settings.ACCESS_REVIEW_REVEALS = 3
    org, other, supervisor = world.centre, world.other, world.supervisor
    alice = world.user(Role.COUNSELLOR, username="alice")
    bob = world.user(Role.COUNSELLOR, username="bob")
    stranger = world.other_counsellor
    mine = make_case(org, summary="")
    mine.lead_workers.add(alice)
    theirs = make_case(org, summary="")
    person = make_client(org)

    def at(day, hour, minute=0):
        moment = datetime.datetime(2025, 6, day, hour, minute, tzinfo=TOKYO)
        monkeypatch.setattr(timezone, "now", lambda: moment)  # the clock audit.services reads

    at(2, 10)
    record(Action.VIEW, obj=mine, actor=alice)  # her own case, by day
    at(2, 23, 30)
    record(Action.VIEW, obj=theirs, actor=alice)  # outside assignment, at night
    for hour in (9, 10, 11):
        at(3, hour)
        record(Action.IDENTITY_REVEAL, obj=person, actor=bob, detail={"case": theirs.code})
    at(4, 14)
    record(Action.BREAK_GLASS, obj=theirs, actor=bob, detail={"reason": "緊急"})
    record(Action.VIEW, obj=theirs, actor=stranger)  # another organisation's staff
    at(20, 10)
    record(Action.VIEW, obj=mine, actor=alice)  # outside the reviewed period
    monkeypatch.undo()
    return locals()


def test_access_review_counts_and_flags_on_crafted_events(client, crafted):
    client.force_login(crafted["supervisor"])
    page = client.get(
        reverse("casework:access_review"), {"start": "2025-06-01", "end": "2025-06-10"}
    )
    assert page.status_code == 200
    people = {p.label: p for p in page.context["review"].people}
    assert set(people) == {"alice", "bob"}  # not the other organisation's staff
    alice, bob = people["alice"], people["bob"]
    # alice: 2 views in the period (2 Jun 10:00 own case, 23:30 another case); 20 Jun excluded.
    assert (alice.views, alice.reveals, alice.night, len(alice.cases)) == (2, 0, 1, 2)
    assert alice.outside_assignment == {crafted["theirs"].code}
    assert set(alice.flags) == {"担当外のケース", "夜間のアクセス"}
    # bob: 3 reveals (= the threshold of 3), a break-glass, no lead role: outside assignment.
    assert (bob.views, bob.reveals, bob.break_glass, bob.night) == (0, 3, 1, 0)
    assert set(bob.flags) == {"個人情報の表示が多い", "担当外のケース", "緊急アクセス"}

    client.post(
        reverse("casework:access_review") + "?start=2025-06-01&end=2025-06-10", {"note": "確認した"}
    )
    mark = Event.objects.get(object_type="casework.AccessReview")
    assert (
        mark.detail["reviewed"] and mark.detail["note"] == "確認した" and mark.detail["people"] == 2
    )
    page = client.get(
        reverse("casework:access_review"), {"start": "2025-06-01", "end": "2025-06-10"}
    )
    assert "確認した" in page.content.decode()


def test_access_review_refuses_a_backwards_period(client, crafted):
    client.force_login(crafted["supervisor"])
    page = client.get(
        reverse("casework:access_review"), {"start": "2025-06-10", "end": "2025-06-01"}
    )
    assert page.status_code == 400 and "終了日は開始日以降" in page.content.decode()


def test_audit_browser_filters_verifies_and_exports_with_an_event(client, crafted):
    auditor = make_user(Role.AUDITOR, organisation=make_organisation())
    client.force_login(auditor)
    page = client.get(reverse("audit:browser"), {"actor": "bob", "action": "identity_reveal"})
    assert page.status_code == 200
    assert [e.action for e in page.context["page"]] == ["identity_reveal"] * 3

    response = client.post(reverse("audit:verify"), follow=True)
    assert "改ざんされていません" in response.content.decode()

    export = client.get(reverse("audit:export"), {"object_ref": crafted["theirs"].code})
    assert export.content.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    # Title and heading lines (who exported, the filters) above the column names.
    assert crafted["theirs"].code in " ".join(lines[2])
    header = next(i for i, row in enumerate(lines) if row[:1] == ["通番"])
    rows = lines[header + 1 :]
    assert {row[2] for row in rows} == {"view", "break_glass"}
    assert len(rows) == 3  # alice's night view, bob's break-glass, the stranger's view
    logged = Event.objects.filter(action=Action.EXPORT, object_type="audit.Event").get()
    assert logged.detail["rows"] == 3
