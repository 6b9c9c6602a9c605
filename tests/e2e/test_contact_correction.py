"""A counsellor corrects a saved contact (with the reason; the timeline says 訂正あり)
and links an anonymous first call to the case opened after it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from casework import services
from casework.models import Contact
from tests.factories import PASSWORD, make_organisation, make_user

pytestmark = pytest.mark.browser


def test_correct_a_contact_and_link_an_anonymous_call(
    live_server, transactional_db, page, screenshot
):
    org = make_organisation(name="ひきこもり地域支援センター（訂正テスト）")
    counsellor = make_user(
        Role.COUNSELLOR, organisation=org, username="teisei", display_name="相談員 訂正"
    )
    anonymous = services.log_contact(counsellor, summary="名乗らずに母親から電話。")
    case = services.open_case(counsellor, identity={"name": "架空 三郎"})
    services.log_contact(counsellor, case=case, summary="本人が来所。次回は火曜。", minutes=30)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("ユーザー名").fill("teisei")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()

    # The anonymous call, from the dashboard's recent contacts, linked to the case.
    page.get_by_role("link", name="訂正・ケースに紐付け").click()
    page.get_by_role("link", name="この匿名の相談をケースに紐付ける").click()
    page.get_by_label("ケースコード").fill(case.code)
    page.get_by_role("button", name="紐付ける").click()
    expect(page.get_by_text("相談記録をケースに紐付けました。")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text("名乗らずに母親から電話。")

    # The case's own contact corrected: the reason is required, then saved.
    entry = page.locator(".timeline li", has_text="本人が来所。")
    entry.get_by_role("link", name="訂正する").click()
    page.get_by_label("相談内容の記録").fill("本人が来所。次回は水曜。")
    page.get_by_role("button", name="訂正を保存").click()
    expect(page.get_by_text("訂正の理由").first).to_be_visible()
    page.get_by_label("訂正の理由").fill("曜日の誤り")
    page.get_by_role("button", name="訂正を保存").click()
    corrected = page.locator(".timeline li", has_text="本人が来所。次回は水曜。")
    expect(corrected).to_contain_text("訂正あり：相談員 訂正")
    screenshot(page, "12-corrected-contact")

    anonymous.refresh_from_db()
    assert anonymous.case_id == case.pk
    earlier = Contact.objects.get(summary__isnull=False, case=case, minutes=30)
    assert "本人が来所。次回は火曜。" in [h.summary for h in earlier.history.all()]
