"""A counsellor refers a case with consent for basic profile + summary; the municipal
liaison accepts it and sees exactly that and nothing else."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from casework import services
from tests.factories import PASSWORD, make_organisation, make_user

pytestmark = pytest.mark.browser


def log_in(page, base, username):
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("heading", name="ダッシュボード")).to_be_visible()


def test_refer_with_consent_scope_and_the_liaison_sees_exactly_that(
    live_server, transactional_db, page, screenshot
):
    centre = make_organisation(name="センター（テスト）")
    town = make_organisation("municipality", name="紹介先市（テスト）")
    counsellor = make_user(Role.COUNSELLOR, organisation=centre, username="sender")
    make_user(Role.MUNICIPAL_LIAISON, organisation=town, username="liaison")
    case = services.open_case(
        counsellor,
        identity={"name": "紹介 太郎", "phone": "000-0000-0002"},
        case_fields={"summary": "就労に向けた相談を継続中"},
    )
    services.log_contact(counsellor, case=case, summary="経過記録は共有しない")

    log_in(page, live_server.url, "sender")
    page.goto(f"{live_server.url}/cases/{case.code}/")
    page.get_by_role("link", name="紹介する").click()
    page.get_by_label("紹介先").select_option(label="紹介先市（テスト）")
    page.get_by_label("紹介の目的・経過").fill("居住地での支援を依頼します")
    page.get_by_label("本人等の同意あり").check()
    page.get_by_label("同意日").fill("2024-05-01")
    page.get_by_label("同意の方法").select_option("written")
    page.get_by_label("基本情報（氏名・連絡先等）").check()
    page.get_by_label("紹介の目的・ケース概要").check()
    page.get_by_role("button", name="下書きを保存").click()
    page.get_by_role("button", name="送付する").click()
    expect(page.locator(".badge").first).to_have_text("送付済み")

    log_in(page, live_server.url, "liaison")
    page.get_by_role("link", name="紹介", exact=True).click()
    page.get_by_role("link", name="センター（テスト）").click()
    expect(page.get_by_text("紹介 太郎")).to_have_count(0)
    page.get_by_role("button", name="受理する").click()
    page.get_by_role("link", name="共有された情報を見る").click()
    # The consented identity shows only when asked for (within the step-up window of the
    # sign-in just made), and the asking is an audited reveal.
    expect(page.locator("#shared-identity")).not_to_contain_text("紹介 太郎")
    page.get_by_role("button", name="個人情報を表示").click()
    expect(page.locator("#shared-identity")).to_contain_text("紹介 太郎")
    expect(page.locator("#shared-summary")).to_contain_text("居住地での支援を依頼します")
    expect(page.locator("#shared-summary")).to_contain_text("就労に向けた相談を継続中")
    expect(page.locator("#shared-contacts")).to_have_count(0)
    expect(page.get_by_text("経過記録は共有しない")).to_have_count(0)
    screenshot(page, "06-shared-referral")

    response = page.goto(f"{live_server.url}/cases/{case.code}/")
    assert response.status in (403, 404)
