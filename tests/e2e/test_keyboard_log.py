"""A phone call logged with the keyboard alone, from the dashboard to the saved record,
with the keys the quick log shows (casework/_shortcuts.html); the key presses counted."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from casework import services
from casework.models import Consulter, Contact
from tests.factories import PASSWORD, make_organisation, make_user

pytestmark = pytest.mark.browser

NOTE = "母から。本人は昼に起きられる日が増えた。"


class Keyboard:
    """The page's keyboard, counting every key pressed (a typed character is one)."""

    def __init__(self, page) -> None:
        self.keyboard = page.keyboard
        self.presses = 0
        self.typed = 0

    def press(self, key: str, times: int = 1) -> None:
        for _ in range(times):
            self.keyboard.press(key)
            self.presses += 1

    def type(self, text: str) -> None:
        self.keyboard.type(text)
        self.typed += len(text)


def test_log_a_phone_call_from_the_keyboard_alone(live_server, transactional_db, page, screenshot):
    org = make_organisation(name="ひきこもり地域支援センター（キーボード）")
    counsellor = make_user(Role.COUNSELLOR, organisation=org, username="keyboard")
    case = services.open_case(counsellor, identity={"name": "架空 五郎"})

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("ユーザー名").fill("keyboard")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("heading", name="ダッシュボード")).to_be_visible()

    keys = Keyboard(page)
    keys.press("Alt+n")  # the access key the menu shows
    expect(page.get_by_role("heading", name="相談記録の入力")).to_be_visible()
    expect(page.get_by_label("ケースコード")).to_be_focused()
    expect(page.get_by_text("Ctrl+Enter").first).to_be_visible()  # the keys are shown
    keys.type(case.code)
    keys.press("Tab")  # 相談方法: 電話, as it is
    keys.press("Tab")  # 相談者
    keys.press("ArrowDown")  # 本人 → 親
    keys.press("Tab")  # 新規／継続: 継続, as it is
    keys.press("Tab")  # 対応時間（分）: Tab selects its 10
    expect(page.get_by_label("対応時間（分）")).to_be_focused()
    keys.type("25")
    keys.press("Tab")  # 相談内容の記録
    expect(page.get_by_label("相談内容の記録")).to_be_focused()
    keys.type(NOTE)
    screenshot(page, "15-keyboard-log")
    keys.press("Control+Enter")
    expect(page.get_by_text("相談記録を保存しました。")).to_be_visible()

    contact = Contact.objects.get(case=case)
    assert (contact.channel, contact.consulter, contact.minutes) == ("phone", Consulter.PARENT, 25)
    assert contact.summary == NOTE
    navigation = keys.presses
    typed = keys.typed
    print(f"\nkeyboard-only phone call: {navigation} keys to move and save, {typed} typed")
    assert navigation <= 8
