"""The 相談記録票 as Chromium prints it (page.pdf, A4 from print.css): opened from the case
page, 取扱注意 and "page / pages" on every printed page, dates in the Japanese era, the
visits' place, purpose and notes in the timeline, and no client name on any page."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from accounts.roles import Role
from audit.models import Action, Event
from casework import services as casework
from outreach import services as outreach
from outreach.models import Visit
from tests.e2e.pdf_text import pages_text
from tests.factories import PASSWORD, make_organisation, make_user

pytestmark = pytest.mark.browser


def test_the_printed_case_record_is_marked_on_every_page_and_carries_the_visits(
    live_server, transactional_db, page
):
    org = make_organisation(name="センター（記録票テスト）")
    worker = make_user(
        Role.OUTREACH_WORKER, organisation=org, username="kiroku", display_name="支援員 記録"
    )
    case = casework.open_case(worker, identity={"name": "印刷 花子"})
    start = timezone.now() - datetime.timedelta(days=40)
    for n in range(30):  # a long history, so the record runs over several pages
        casework.log_contact(
            worker,
            case=case,
            occurred_at=start + datetime.timedelta(days=n),
            summary="\n".join(f"{n}回目の電話 母親から近況を聞いた その{k}" for k in range(4)),
            minutes=20,
        )
    visit = outreach.plan_visit(
        worker,
        case,
        planned_start=timezone.now() - datetime.timedelta(days=1),
        workers=[worker],
        kind=Visit.Kind.ACCOMPANIMENT,
        destination=Visit.Destination.HOSPITAL,
        purpose="受診同行の目的",
    )
    outreach.start_visit(worker, visit)
    outreach.complete_visit(worker, visit, outcome="met_person", minutes=90, notes="待合室で話した")

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("ユーザー名").fill("kiroku")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.goto(f"{live_server.url}/cases/{case.code}/")
    page.get_by_role("link", name="相談記録票を印刷").click()
    pages = pages_text(page.pdf(prefer_css_page_size=True))

    total = len(pages)
    assert total >= 2
    for number, text in enumerate(pages, start=1):
        assert "取扱注意" in text, number
        assert f"{number} / {total}" in text, number
        assert "印刷 花子" not in text
    everything = "".join(pages)
    assert "相談記録票" in pages[0] and case.code in pages[0]
    assert re.search(r"令和(元|\d+)年\d+月\d+日", pages[0])
    assert "受診同行の目的" in everything and "待合室で話した" in everything
    assert "医療機関" in everything
    assert Event.objects.filter(action=Action.EXPORT, object_ref=case.code).count() == 1
