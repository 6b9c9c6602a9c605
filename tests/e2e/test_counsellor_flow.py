"""A counsellor logs in, logs a phone call, finds it on the timeline, reveals identity."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from audit.models import Action, Event
from casework import services
from tests.factories import PASSWORD, make_organisation, make_user

pytestmark = pytest.mark.browser


def test_log_a_phone_contact_find_it_on_the_timeline_and_reveal_identity(
    live_server, transactional_db, page, screenshot
):
    org = make_organisation(name="三重県ひきこもり地域支援センター（テスト）")
    counsellor = make_user(
        Role.COUNSELLOR, organisation=org, username="soudan", display_name="相談員 テスト"
    )
    case = services.open_case(
        counsellor,
        identity={"name": "架空 一郎", "name_kana": "カクウ イチロウ", "phone": "000-0000-0001"},
        case_fields={"summary": "母親から継続相談"},
    )

    page.goto(f"{live_server.url}/accounts/login/")
    screenshot(page, "01-login")
    page.get_by_label("ユーザー名").fill("soudan")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("heading", name="ダッシュボード")).to_be_visible()
    screenshot(page, "02-dashboard")

    page.get_by_role("link", name="相談記録の入力").click()
    page.get_by_label("ケースコード").fill(case.code)
    page.get_by_label("対応時間（分）").fill("12")
    page.get_by_label("相談内容の記録").fill("本人から電話。来週の来所を約束した。")
    screenshot(page, "03-quick-contact")
    page.get_by_role("button", name="保存").click()

    expect(page.get_by_role("heading", name=f"ケース {case.code}")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text("本人から電話。来週の来所を約束した。")
    expect(page.locator(".timeline")).to_contain_text("電話")
    expect(page.get_by_text("架空 一郎")).to_have_count(0)

    page.get_by_role("button", name="個人情報を表示").click()
    expect(page.locator("#identity")).to_contain_text("架空 一郎")
    expect(page.locator("#identity")).to_contain_text("この表示は監査証跡に記録されました。")
    screenshot(page, "04-case-detail")

    reveal = Event.objects.get(action=Action.IDENTITY_REVEAL)
    assert reveal.actor_label == "soudan" and reveal.object_ref == case.client.code

    page.get_by_role("link", name="ケース一覧").click()
    expect(page.get_by_role("link", name=case.code)).to_be_visible()
    screenshot(page, "05-case-list")
