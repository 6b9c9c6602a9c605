"""A supervisor opens the plan's progress table, enters a figure from outside the system,
downloads the XLSX and submits the report; a statistics viewer sees the breakdown with
small cells hidden."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import Role
from casework import services
from casework.periods import fiscal_year
from indicators.disclosure.publication import publish
from indicators.models import Direction, Indicator, Plan, Snapshot, Target
from tests.factories import PASSWORD, make_organisation, make_user
from tests.indicators.conftest import at

pytestmark = pytest.mark.browser


def _login(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()


def test_progress_report_entry_export_and_suppressed_breakdown(
    live_server, transactional_db, page, screenshot
):
    centre = make_organisation(name="センター（指標テスト）")
    supervisor = make_user(Role.SUPERVISOR, organisation=centre, username="shidou")
    make_user(Role.STATISTICS_VIEWER, organisation=centre, username="toukei")
    counsellor = make_user(Role.COUNSELLOR, organisation=centre)
    year = fiscal_year(timezone.localdate())
    plan = Plan.objects.create(
        name="ひきこもり支援の目標", organisation=centre, first_year=year - 1, last_year=year + 1
    )
    direction = Direction.objects.create(plan=plan, number=1, name="相談支援体制の充実")
    new = Indicator.objects.create(
        direction=direction, code="1-1", name="新規相談件数", unit="件", metric="new_consultations"
    )
    Target.objects.create(indicator=new, fiscal_year=year, value=4)
    Indicator.objects.create(direction=direction, code="1-2", name="居場所の数", unit="か所")
    last_year = at(year - 1, 10, 1)
    for name in ("指標 一郎", "指標 二郎", "指標 三郎"):
        case = services.open_case(counsellor, identity={"name": name}, confirm_duplicate=True)
        services.log_contact(counsellor, case=case, summary="相談")
        for _ in range(2):  # last year's, published whole (the year is closed)
            services.log_contact(counsellor, case=case, summary="相談", occurred_at=last_year)
    publish("contacts", year - 1)

    _login(page, live_server, "shidou")
    page.get_by_role("link", name="計画・統計").click()
    page.get_by_role("link", name="ひきこもり支援の目標").click()
    table = page.locator("table.report")
    row = table.locator("tr", has_text="新規相談件数")
    expect(row).to_contain_text("4件")  # target
    expect(row).to_contain_text("75")  # 3 / 4
    expect(row).to_contain_text("やや遅れ")
    expect(page.locator("svg.chart")).to_be_visible()
    screenshot(page, "09-progress-report")

    table.locator("tr", has_text="居場所の数").get_by_role("link").click()
    page.get_by_role("link", name="目標値・実績値・評価を入力する").click()
    page.get_by_label("実績値（手入力）").fill("6")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("出典・根拠を入れてください。")).to_be_visible()  # nothing saved
    page.get_by_label("出典・根拠").fill("所管課の把握数")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("分を保存しました。")).to_be_visible()
    page.get_by_role("link", name="進捗状況の一覧へ").click()
    expect(page.locator("table.report tr", has_text="居場所の数")).to_contain_text("6")

    with page.expect_download() as download:
        page.get_by_role("link", name="Excel（XLSX）で保存").click()
    # The saved download has no file extension, which openpyxl insists on: read the bytes.
    sheet = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    values = [row for row in sheet.iter_rows(values_only=True)]
    assert any(r[2] == "居場所の数" and 6 in r for r in values)

    page.get_by_role("button", name="現在で提出する").click()
    expect(page.get_by_text("進捗報告を提出しました")).to_be_visible()
    assert Snapshot.objects.filter(plan=plan, submitted_by=supervisor).count() == 1
    page.get_by_role("button", name="ログアウト").click()

    _login(page, live_server, "toukei")
    page.goto(f"{live_server.url}/indicators/metrics/contacts/?year={year - 1}")
    expect(page.locator("svg.chart")).to_be_visible()
    # Six contacts, all by phone in October: every other channel and month is 0, not
    # told from 1 or 2, so hidden, with whatever would give them away; the screen shows
    # only figures of 3 and more, and hides some.
    cells = page.locator("table.report td.num").all_inner_texts()
    shown = [int(text) for text in cells if text != "x"]
    assert "x" in cells and shown and all(value >= 3 for value in shown)
    assert "6" in cells
    expect(page.locator("p.note").first).to_contain_text("秘匿")
    screenshot(page, "10-breakdown")
