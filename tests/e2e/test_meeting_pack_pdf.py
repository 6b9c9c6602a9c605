"""The meeting pack as Chromium prints it (page.pdf, A4 from print.css): an agenda page,
a page per agenda case (a long one running on), an attendance page; 取扱注意 and
"page / pages" on every printed page; no client name on any."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from accounts.roles import Role
from casework import services as casework
from meetings import services
from meetings.models import Meeting
from tests.e2e.pdf_text import pages_text
from tests.factories import PASSWORD, make_organisation, make_user

pytestmark = pytest.mark.browser


def test_every_printed_page_is_marked_and_numbered(live_server, transactional_db, page):
    org = make_organisation(name="センター（資料テスト）")
    chair = make_user(Role.SUPERVISOR, organisation=org, username="chair", display_name="議長")
    meeting = services.plan_meeting(
        chair,
        kind=Meeting.Kind.MDT_MONTHLY,
        held_at=timezone.now() + datetime.timedelta(days=3),
        legal_basis=Meeting.LegalBasis.SUPPORT_MEETING,
    )
    long_summary = "\n".join(f"{n}月の経過と支援の方針" for n in range(1, 90))
    codes = []
    for n, summary in enumerate(["短い概要", long_summary, "短い概要"]):
        case = casework.open_case(
            chair,
            identity={"name": f"印刷 太郎{n}"},
            confirm_duplicate=True,
            case_fields={"summary": summary},
        )
        services.add_to_agenda(chair, meeting, case=case, presenter=chair, question="方針の確認")
        codes.append(case.code)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("ユーザー名").fill("chair")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.goto(f"{live_server.url}/meetings/{meeting.pk}/")
    page.get_by_role("link", name="会議資料を印刷").click()
    pages = pages_text(page.pdf(prefer_css_page_size=True))

    total = len(pages)
    assert total >= 6  # agenda, three cases (the long one on two pages at least), attendance
    for number, text in enumerate(pages, start=1):
        assert "取扱注意" in text, number
        assert f"{number} / {total}" in text, number
        assert "印刷 太郎" not in text
    assert re.search(r"令和(元|\d+)年\d+月\d+日", pages[0])
    assert all(code in pages[0] for code in codes) and "議長" in pages[0]
    starts = [next(i for i, text in enumerate(pages) if f"：{code}" in text) for code in codes]
    assert starts == [1, 2, starts[2]] and starts[2] >= 4  # each case on a page of its own
    assert "89月の経過" in "".join(pages[3 : starts[2]])  # the long one runs on
    assert "出席者" in pages[-1] and "議長" in pages[-1]
