"""A note being typed survives a language switch and the idle timeout (casework.drafts,
static/js/session.js), and the page warns before the timeout with a button that extends
the session."""

from __future__ import annotations

import re
import time

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import override_settings
from playwright.sync_api import expect

from accounts.middleware import LAST_SEEN
from accounts.roles import Role
from casework import services
from casework.models import Contact
from tests.factories import PASSWORD, make_organisation, make_user

pytestmark = pytest.mark.browser

NOTE = "母から電話。本人は最近、夜に近所を散歩できている。"


def _sign_in(page, username: str) -> None:
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()


def _session(page) -> SessionStore:
    [cookie] = [c for c in page.context.cookies() if c["name"] == "sessionid"]
    return SessionStore(session_key=cookie["value"])


def _idle_for(page, seconds: float) -> None:
    """As if nobody had touched the keyboard for `seconds`."""
    session = _session(page)
    session[LAST_SEEN] = time.time() - seconds
    session.save()


@pytest.fixture
def counsellor_case(transactional_db):
    org = make_organisation(name="ひきこもり地域支援センター（下書きテスト）")
    counsellor = make_user(
        Role.COUNSELLOR, organisation=org, username="shitagaki", display_name="相談員 下書"
    )
    return counsellor, services.open_case(counsellor, identity={"name": "架空 四郎"})


def test_a_note_survives_a_language_switch_and_the_idle_timeout(
    live_server, counsellor_case, page, screenshot
):
    _counsellor, case = counsellor_case
    form_url = f"{live_server.url}/contacts/new/?case={case.code}"
    page.goto(form_url)
    _sign_in(page, "shitagaki")
    expect(page).to_have_url(form_url)

    # Typed, then the language switched at once: the draft is saved before the page goes.
    summary = page.get_by_label("相談内容の記録")
    summary.fill(NOTE)
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("textarea[name=summary]")).to_have_value(NOTE)
    page.get_by_role("button", name="日本語").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")

    # More typing, saved as typed; then sixteen idle minutes and the 保存 button.
    summary = page.get_by_label("相談内容の記録")
    summary.fill(NOTE + "来週また電話をくれる。")
    expect(page.locator(".draft-status")).to_contain_text("下書きを保存しました")
    _idle_for(page, 16 * 60)
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("一定時間操作がなかったため、ログアウトしました。")).to_be_visible()

    # Signed in again: back on the same form, the note as it was.
    _sign_in(page, "shitagaki")
    expect(page).to_have_url(form_url)
    expect(page.locator(".draft-restored")).to_contain_text(f"{case.code} の書きかけの下書き")
    expect(page.get_by_label("相談内容の記録")).to_have_value(NOTE + "来週また電話をくれる。")
    screenshot(page, "13-draft-restored")
    # Enter in a one-line field saves (outside review: it pressed 下書きを破棄).
    page.get_by_label("対応時間（分）").fill("20")
    page.get_by_label("対応時間（分）").press("Enter")
    expect(page.get_by_text("相談記録を保存しました。")).to_be_visible()

    contact = Contact.objects.get(case=case)
    assert contact.summary == NOTE + "来週また電話をくれる。"


def test_the_page_warns_before_the_idle_timeout_and_extends_the_session(
    live_server, counsellor_case, page, screenshot
):
    # Warn 895 of the 900 idle seconds before the end: the page asks after five seconds.
    with override_settings(SESSION_IDLE_MINUTES=15, SESSION_WARNING_SECONDS=895):
        page.goto(f"{live_server.url}/accounts/login/")
        _sign_in(page, "shitagaki")
        expect(page.get_by_role("heading", name="ダッシュボード")).to_be_visible()
        _idle_for(page, 60)  # another minute idle: 840 seconds left when the page asks
        dialog = page.get_by_role("dialog", name="まもなくログアウトします")
        expect(dialog).to_be_visible(timeout=15_000)
        expect(dialog).to_contain_text(re.compile(r"あと 1[34]:[0-5][0-9] でログアウト"))
        screenshot(page, "14-idle-warning")
        dialog.get_by_role("button", name="ログインを延長する").click()
        expect(dialog).to_be_hidden()
        assert time.time() - _session(page)[LAST_SEEN] < 10  # the clock restarted


def test_a_page_left_alone_is_signed_out_when_the_countdown_ends(
    live_server, counsellor_case, page
):
    """Outside review: the page's own reload at 0:00 came a moment before the server's
    end, counted as activity, and kept an unattended page signed in for ever."""
    with override_settings(SESSION_IDLE_MINUTES=0.25, SESSION_WARNING_SECONDS=10):
        page.goto(f"{live_server.url}/contacts/new/")
        _sign_in(page, "shitagaki")
        expect(page.get_by_role("heading", name="相談記録の入力")).to_be_visible()
        expect(page.get_by_role("dialog", name="まもなくログアウトします")).to_be_visible(
            timeout=20_000
        )
        expect(page.get_by_text("一定時間操作がなかったため、ログアウトしました。")).to_be_visible(
            timeout=30_000
        )
        assert "/accounts/login/" in page.url


def test_the_warning_on_a_page_without_drafts_says_typed_text_would_be_lost(
    live_server, counsellor_case, page
):
    _counsellor, case = counsellor_case
    with override_settings(SESSION_IDLE_MINUTES=15, SESSION_WARNING_SECONDS=895):
        page.goto(f"{live_server.url}/accounts/login/")
        _sign_in(page, "shitagaki")
        page.goto(f"{live_server.url}/cases/{case.code}/")  # the milestone memo: no draft
        dialog = page.get_by_role("dialog", name="まもなくログアウトします")
        expect(dialog).to_be_visible(timeout=15_000)
        expect(dialog.get_by_text("ログアウトすると失われます")).to_be_visible()
        expect(dialog.get_by_text("下書きとして保存されています")).to_be_hidden()


def test_text_typed_just_before_leaving_the_page_is_kept(live_server, counsellor_case, page):
    """The counsellor's-day review: closing the tab within a second lost the last words."""
    _counsellor, case = counsellor_case
    form_url = f"{live_server.url}/contacts/new/?case={case.code}"
    page.goto(form_url)
    _sign_in(page, "shitagaki")
    page.get_by_label("相談内容の記録").fill(NOTE)
    page.goto(f"{live_server.url}/")  # at once, before the second's pause
    page.goto(form_url)
    expect(page.get_by_label("相談内容の記録")).to_have_value(NOTE)
