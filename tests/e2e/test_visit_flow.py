"""An outreach worker plans a visit, starts it, checks in from a phone-sized screen,
records the result and sees it counted on the case timeline."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from casework import services
from casework.models import Contact
from tests.factories import PASSWORD, make_organisation, make_user

pytestmark = pytest.mark.browser


def test_plan_start_check_in_and_see_the_visit_on_the_timeline(
    live_server, transactional_db, page, screenshot
):
    org = make_organisation(name="センター（訪問テスト）")
    worker = make_user(Role.OUTREACH_WORKER, organisation=org, username="houmon")
    case = services.open_case(worker, identity={"name": "訪問 次郎"})

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("ユーザー名").fill("houmon")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()

    page.goto(f"{live_server.url}/outreach/visits/new/")
    page.get_by_label("ケースコード").fill(case.code)
    page.get_by_label("種別").select_option("home_visit")
    page.get_by_label("予定日時").fill("2024-06-10T10:00")
    page.get_by_role("button", name="予定する").click()
    expect(page.get_by_text("訪問を予定しました。")).to_be_visible()

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.get_by_role("button", name="訪問を開始").click()
    checkin = page.get_by_role("button", name="帰着連絡（無事に戻りました）")
    expect(checkin).to_be_visible()
    screenshot(page, "07-visit-check-in-phone")
    checkin.click()
    expect(page.get_by_text("帰着連絡を受け付けました。")).to_be_visible()

    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_label("結果").select_option("family_only")
    page.get_by_label("対応時間（分）").fill("50")
    page.get_by_role("button", name="記録する").click()
    expect(page.get_by_role("heading", name=f"ケース {case.code}")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text("訪問")
    expect(page.locator(".timeline")).to_contain_text("50分")
    assert Contact.objects.filter(case=case, channel="home_visit").count() == 1


def test_on_a_phone_todays_visits_are_on_the_first_screen(
    live_server, transactional_db, page, screenshot
):
    """The counsellor's-day review: on a phone 今日の訪問 was three screens down."""
    from django.utils import timezone

    from outreach import services as outreach_services

    org = make_organisation(name="センター（スマートフォン）")
    worker = make_user(Role.OUTREACH_WORKER, organisation=org, username="phone")
    for n in range(6):  # a worker with cases to keep: the longer lists come after
        case = services.open_case(worker, identity={"name": f"電話 {n}"})
        services.log_contact(worker, case=case, summary="記録")
    outreach_services.plan_visit(
        worker,
        case,
        planned_start=timezone.localtime().replace(hour=23, minute=0),
        workers=[worker],
    )
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("ユーザー名").fill("phone")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    heading = page.get_by_role("heading", name="今日の訪問")
    expect(heading).to_be_visible()
    box = heading.bounding_box()
    screenshot(page, "16-phone-dashboard")
    assert box is not None and box["y"] + box["height"] <= 844, box
