"""A parent calls back and gives the child's name: the counsellor finds the case from
the case list by a kana variant, then by the phone number, then by the birth date."""

from __future__ import annotations

import datetime

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from casework import services
from tests.factories import PASSWORD, make_organisation, make_user

pytestmark = pytest.mark.browser


def test_find_a_case_by_a_kana_variant_phone_and_birth_date(
    live_server, transactional_db, page, screenshot
):
    org = make_organisation(name="ひきこもり地域支援センター（検索テスト）")
    counsellor = make_user(Role.COUNSELLOR, organisation=org, username="kensaku")
    case = services.open_case(
        counsellor,
        identity={
            "name": "架空 裕子",
            "name_kana": "カクウ ユウコ",
            "phone": "090-0000-1234",
            "birth_date": datetime.date(1996, 5, 4),
        },
    )
    other = services.open_case(
        counsellor, identity={"name": "架空 次郎", "name_kana": "カクウ ジロウ"}
    )

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("ユーザー名").fill("kensaku")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.get_by_role("link", name="ケース一覧").click()
    page.get_by_role("link", name="氏名・電話番号・生年月日でケースを探す").click()

    page.get_by_label("氏名（カナ）").fill("ｶｸｳ ﾕｰｺ")  # half-width, a long vowel mark
    page.get_by_role("button", name="探す").click()
    results = page.locator("table")
    expect(results.get_by_role("link", name=case.code)).to_be_visible()
    expect(results.get_by_role("link", name=other.code)).to_have_count(0)
    screenshot(page, "11-case-search")
    # The terms stay out of the address (and so out of history and access logs).
    assert "ﾕｰｺ" not in page.url and "%EF%BD" not in page.url

    page.get_by_label("氏名（カナ）").fill("かくう")  # the family name finds both
    page.get_by_role("button", name="探す").click()
    expect(results.get_by_role("link", name=other.code)).to_be_visible()
    expect(results.get_by_role("link", name=case.code)).to_be_visible()

    page.get_by_label("氏名（カナ）").fill("")
    page.get_by_label("電話番号").fill("０９０（００００）１２３４")
    page.get_by_role("button", name="探す").click()
    expect(results.get_by_role("link", name=case.code)).to_be_visible()
    expect(results.get_by_role("link", name=other.code)).to_have_count(0)

    page.get_by_label("電話番号").fill("")
    page.get_by_label("生年月日").fill("1996-05-04")
    page.get_by_role("button", name="探す").click()
    expect(results.get_by_role("link", name=case.code)).to_be_visible()
    results.get_by_role("link", name=case.code).click()
    expect(page.get_by_role("heading", name=f"ケース {case.code}")).to_be_visible()
