"""A counsellor prepares today's MDT meeting from the automatic pack, adds a case, ticks
the attending psychiatrist and records an external attendee, prints the pack (no
identity), records a decision and an action (refused first for next month's meeting,
whose day has not come), sees the action on the dashboard, and the decision and action on
the case's timeline and in its printed record."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import Role
from casework import services
from meetings import services as meetings
from meetings.models import AgendaItem, ExternalAttendance, Meeting
from tests.factories import PASSWORD, make_organisation, make_user

pytestmark = pytest.mark.browser


def test_prepare_print_and_minute_an_mdt_meeting(live_server, transactional_db, page, screenshot):
    org = make_organisation(name="センター（会議テスト）")
    counsellor = make_user(
        Role.COUNSELLOR, organisation=org, username="junbi", display_name="準備 担当"
    )
    flagged = services.open_case(
        counsellor, identity={"name": "会議 三郎"}, case_fields={"mdt_supported": True}
    )
    psychiatrist = make_user(
        Role.MDT_MEMBER, organisation=org, username="ishi", display_name="医師 一郎"
    )
    extra = services.open_case(counsellor, identity={"name": "会議 四郎"}, confirm_duplicate=True)
    services.log_contact(counsellor, case=extra, summary="最近の相談")

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("ユーザー名").fill("junbi")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()

    today = timezone.localdate()
    next_month = today + datetime.timedelta(days=30)
    page.goto(f"{live_server.url}/meetings/new/")
    page.get_by_label("種別").select_option("mdt_monthly")
    page.get_by_label("日時").fill(f"{today:%Y-%m-%d}T00:05")  # today: minutes may be taken
    page.get_by_role("button", name="登録").click()

    pack = page.locator("table").first
    expect(pack).to_contain_text(flagged.code)  # selected by rule: MDT-supported
    expect(pack).to_contain_text("多職種連携チーム支援")
    page.get_by_label("ケースコードで議題に追加").fill(extra.code)
    page.get_by_role("button", name="追加", exact=True).click()
    expect(page.get_by_text(f"{extra.code} を議題に追加しました。")).to_be_visible()
    screenshot(page, "08-meeting-pack")

    # Attendees: the planner is ticked; tick the psychiatrist, then count an outsider.
    update = page.get_by_role("button", name="出席者を更新")
    attendee_form = page.locator("form", has=update)
    expect(attendee_form.get_by_label("準備 担当")).to_be_checked()
    expect(attendee_form.get_by_label("医師 一郎")).not_to_be_checked()
    attendee_form.get_by_label("医師 一郎").check()
    update.click()
    expect(page.get_by_text("出席者を更新しました。")).to_be_visible()
    expect(attendee_form.get_by_label("準備 担当")).to_be_checked()
    expect(attendee_form.get_by_label("医師 一郎")).to_be_checked()
    meeting = Meeting.objects.get(host=org)
    assert timezone.localdate(meeting.held_at) == today
    assert set(meeting.attendees.all()) == {counsellor, psychiatrist}
    page.get_by_label("所属の種別").select_option(label="医療機関")
    page.get_by_label("職種").fill("精神保健福祉士")
    page.get_by_label("人数").fill("2")
    page.get_by_role("button", name="記録", exact=True).click()
    expect(page.get_by_text("外部出席者を記録しました。")).to_be_visible()
    expect(page.get_by_text("精神保健福祉士 2人")).to_be_visible()
    assert ExternalAttendance.objects.get(meeting=meeting).count == 2
    assert set(meeting.attendees.all()) == {counsellor, psychiatrist}  # untouched
    screenshot(page, "08b-meeting-attendees")

    page.get_by_role("link", name="会議資料を印刷").click()
    expect(page.locator("body")).to_contain_text(extra.code)
    expect(page.locator("body")).to_contain_text("最近の相談")
    assert "会議 四郎" not in page.content() and "会議 三郎" not in page.content()
    page.go_back()

    # Next month's meeting, with the same case, cannot take minutes yet.
    later = meetings.plan_meeting(
        counsellor,
        kind=Meeting.Kind.CASE_CONFERENCE,
        held_at=timezone.now() + datetime.timedelta(days=30),
        legal_basis=Meeting.LegalBasis.INTERNAL,
    )
    early = meetings.add_to_agenda(counsellor, later, case=extra)
    page.goto(live_server.url + reverse("meetings:minutes", kwargs={"pk": early.pk}))
    expect(page.get_by_text(f"{next_month:%Y/%m/%d}に開催予定です").first).to_be_visible()
    page.get_by_label("決定事項").fill("先に決めておく")
    page.get_by_role("button", name="記録する").click()
    expect(page.get_by_role("alert").filter(has_text="当日以降に記録してください")).to_be_visible()
    assert AgendaItem.objects.get(pk=early.pk).decisions is None
    assert Meeting.objects.get(pk=later.pk).status == Meeting.Status.PLANNED
    page.goto(live_server.url + reverse("meetings:detail", kwargs={"pk": meeting.pk}))

    page.get_by_role("link", name="議事").first.click()
    expect(page.get_by_label("このケースの検討を終える")).not_to_be_checked()  # a choice
    page.get_by_label("決定事項").fill("来月から訪問を開始する")
    page.get_by_label("対応事項").fill("家族に訪問の案内をする")
    page.get_by_label("対応の担当者").select_option(label="準備 担当")
    page.get_by_label("対応の期限").fill(f"{next_month:%Y-%m-%d}")
    page.get_by_role("button", name="記録する").click()
    expect(page.get_by_text("議事を記録しました。")).to_be_visible()

    # The dashboard lists the action by case code; its text is on the minutes page.
    page.get_by_role("link", name="ダッシュボード").click()
    actions = page.locator("section", has=page.get_by_role("heading", name="会議の対応事項"))
    expect(actions).not_to_contain_text("家族に訪問の案内をする")
    actions.get_by_role("link", name=extra.code).click()
    expect(page.get_by_text("家族に訪問の案内をする")).to_be_visible()

    # The decision and the action, with who and by when, are on the case's timeline...
    page.goto(live_server.url + reverse("casework:case_detail", kwargs={"code": extra.code}))
    timeline = page.locator("section", has=page.get_by_role("heading", name="経過"))
    expect(timeline).to_contain_text("多職種連携チーム会議（月例）")
    expect(timeline).to_contain_text("来月から訪問を開始する")
    expect(timeline).to_contain_text("家族に訪問の案内をする")
    expect(timeline).to_contain_text(f"期限 {next_month:%Y/%m/%d}")
    expect(timeline).to_contain_text("未完了")
    screenshot(page, "08c-decision-on-timeline")
    # ...and in its printed record, which names nobody.
    page.get_by_role("link", name="相談記録票を印刷").click()
    expect(page.locator("body")).to_contain_text("来月から訪問を開始する")
    expect(page.locator("body")).to_contain_text("取扱注意")
    assert "会議 四郎" not in page.content()
