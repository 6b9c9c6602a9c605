"""What an MDT member sees (issue 19 point 4): the meetings they attend, read-only; the
agenda cases their grant opens while the review is open; their open actions on the
dashboard. Any other meeting is a 404, as a wrong id; hosting staff keep the full page."""

from __future__ import annotations

import datetime
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.urls import resolve, reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from casework import services as casework
from meetings import services
from meetings.models import Meeting
from tests.html_forms import post_forms

pytestmark = pytest.mark.django_db


@pytest.fixture
def centre(world):
    c = SimpleNamespace(org=world.centre, world=world)
    c.supervisor = world.named(world.supervisor, "主任 花子")
    c.counsellor = world.counsellor
    c.mdt = world.named(world.mdt, "医師 一郎")
    c.absent_mdt = world.user(Role.MDT_MEMBER)
    c.agenda_case = casework.open_case(c.counsellor, identity={"name": "議題 太郎"})
    # A candidate the pack would suggest (MDT-supported), never put on the agenda.
    c.candidate = casework.open_case(
        c.counsellor,
        identity={"name": "候補 次郎"},
        confirm_duplicate=True,
        case_fields={"mdt_supported": True},
    )
    # Held earlier today, so minutes may be recorded on it and the dashboard (today on)
    # lists it: an hour ago, or at midnight if the test runs in the first hour of the day.
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    c.meeting = services.plan_meeting(
        c.supervisor,
        kind=Meeting.Kind.MDT_MONTHLY,
        held_at=max(timezone.now() - datetime.timedelta(hours=1), midnight),
        legal_basis=Meeting.LegalBasis.SUPPORT_MEETING,
        place="第二会議室",
        attendees=[c.supervisor, c.mdt],
    )
    c.item = services.add_to_agenda(c.supervisor, c.meeting, case=c.agenda_case, reason="見直し")
    # Another meeting of the same centre the MDT member does not attend.
    c.other_meeting = services.plan_meeting(
        c.supervisor,
        kind=Meeting.Kind.CASE_CONFERENCE,
        held_at=timezone.now() + datetime.timedelta(days=7),
        legal_basis=Meeting.LegalBasis.INTERNAL,
        attendees=[c.supervisor],
    )
    c.other_case = casework.open_case(
        c.counsellor, identity={"name": "別件 三郎"}, confirm_duplicate=True
    )
    services.add_to_agenda(c.supervisor, c.other_meeting, case=c.other_case)
    return c


def page(client, user, url: str):
    client.force_login(user)
    return client.get(url)


def detail_url(meeting: Meeting) -> str:
    return reverse("meetings:detail", kwargs={"pk": meeting.pk})


def case_url(case) -> str:
    return reverse("casework:case_detail", kwargs={"code": case.code})


def minutes_url(item) -> str:
    return reverse("meetings:minutes", kwargs={"pk": item.pk})


def test_an_attending_mdt_member_lists_only_the_meetings_they_attend(client, centre):
    response = page(client, centre.mdt, reverse("meetings:list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert detail_url(centre.meeting) in body
    assert detail_url(centre.other_meeting) not in body
    # Hosting staff keep the whole list.
    body = page(client, centre.counsellor, reverse("meetings:list")).content.decode()
    assert detail_url(centre.meeting) in body and detail_url(centre.other_meeting) in body


def test_an_attending_mdt_member_sees_the_meeting_read_only_with_their_agenda_case(client, centre):
    response = page(client, centre.mdt, detail_url(centre.meeting))
    assert response.status_code == 200
    body = response.content.decode()
    assert timezone.localtime(centre.meeting.held_at).strftime("%Y/%m/%d %H:%M") in body
    assert "多職種連携チーム会議（月例）" in body and "第二会議室" in body
    assert "医師 一郎" in body and "主任 花子" in body
    assert case_url(centre.agenda_case) in body and minutes_url(centre.item) in body
    # No management forms (the page's only forms are the header's), no print, no pack.
    url = detail_url(centre.meeting)
    posts_to = {resolve(urlsplit(f.url(url)).path).view_name for f in post_forms(body)}
    assert posts_to <= {"accounts:logout", "set_language"}
    for name in ("attendees", "external_add", "agenda_add", "print"):
        assert reverse(f"meetings:{name}", kwargs={"pk": centre.meeting.pk}) not in body
    assert centre.candidate.code not in body
    assert "出席者を更新" not in body
    # The links work: the case page and its minutes, while the review is open.
    assert client.get(case_url(centre.agenda_case)).status_code == 200
    assert client.get(minutes_url(centre.item)).status_code == 200


def test_after_the_review_closes_the_agenda_case_is_gone_from_the_meeting_page(client, centre):
    services.record_minutes(centre.supervisor, centre.item, decisions="継続", close_review=True)
    response = page(client, centre.mdt, detail_url(centre.meeting))
    assert response.status_code == 200  # they attended: the meeting itself stays theirs
    body = response.content.decode()
    assert centre.agenda_case.code not in body and minutes_url(centre.item) not in body
    assert client.get(case_url(centre.agenda_case)).status_code == 404
    assert client.get(minutes_url(centre.item)).status_code == 404


def test_a_meeting_the_mdt_member_does_not_attend_is_not_found(client, centre):
    client.force_login(centre.mdt)
    assert client.get(detail_url(centre.other_meeting)).status_code == 404
    assert client.get(case_url(centre.other_case)).status_code == 404
    # A colleague MDT member who attends nothing: the same 404 as a wrong id.
    client.force_login(centre.absent_mdt)
    assert client.get(detail_url(centre.meeting)).status_code == 404
    assert client.get(detail_url(Meeting(pk=999_999))).status_code == 404
    listed = client.get(reverse("meetings:list")).content.decode()
    assert detail_url(centre.meeting) not in listed
    assert detail_url(centre.other_meeting) not in listed


def test_an_attending_mdt_member_cannot_manage_the_meeting(client, centre):
    client.force_login(centre.mdt)
    url = reverse("meetings:attendees", kwargs={"pk": centre.meeting.pk})
    response = client.post(url, {"attendees": [centre.mdt.pk], "current": ""})
    assert response.status_code == 403
    assert set(centre.meeting.attendees.all()) == {centre.supervisor, centre.mdt}
    assert client.get(reverse("meetings:print", kwargs={"pk": centre.meeting.pk})).status_code == (
        403
    )


def test_a_user_of_another_organisation_never_sees_the_meeting(client, centre):
    elsewhere = centre.world.other
    client.force_login(centre.world.user(Role.MDT_MEMBER, organisation=elsewhere))
    assert client.get(detail_url(centre.meeting)).status_code == 404
    assert detail_url(centre.meeting) not in client.get(reverse("meetings:list")).content.decode()
    client.force_login(centre.world.other_supervisor)
    assert client.get(detail_url(centre.meeting)).status_code == 404
    assert client.get(reverse("meetings:print", kwargs={"pk": centre.meeting.pk})).status_code == (
        404
    )
    # An attendee who has since moved to another organisation keeps no view of it.
    User.objects.filter(pk=centre.mdt.pk).update(organisation=elsewhere)
    client.force_login(User.objects.get(pk=centre.mdt.pk))
    assert client.get(detail_url(centre.meeting)).status_code == 404
    assert detail_url(centre.meeting) not in client.get(reverse("meetings:list")).content.decode()


def test_a_moved_mdt_member_loses_the_agenda_case_while_the_review_is_still_open(client, centre):
    client.force_login(centre.mdt)
    assert client.get(case_url(centre.agenda_case)).status_code == 200
    assert client.get(minutes_url(centre.item)).status_code == 200
    # The administrator moves the member to another organisation; the review stays open
    # and the grant row is still there, but it only ever held within the case's own
    # organisation (casework.access).
    User.objects.filter(pk=centre.mdt.pk).update(organisation=centre.world.other)
    client.force_login(User.objects.get(pk=centre.mdt.pk))
    assert client.get(case_url(centre.agenda_case)).status_code == 404
    assert client.get(minutes_url(centre.item)).status_code == 404
    home = client.get(reverse("home")).content.decode()
    assert centre.agenda_case.code not in home


def test_hosting_staff_keep_the_full_meeting_page(client, centre):
    body = page(client, centre.counsellor, detail_url(centre.meeting)).content.decode()
    assert reverse("meetings:attendees", kwargs={"pk": centre.meeting.pk}) in body
    assert reverse("meetings:print", kwargs={"pk": centre.meeting.pk}) in body
    assert centre.candidate.code in body  # the pack's suggestion, for those who run it


def test_the_dashboard_shows_the_mdt_members_meetings_agenda_cases_and_open_actions(client, centre):
    today = timezone.localdate()
    mine = services.add_action(
        centre.supervisor,
        centre.item,
        description="服薬の確認",
        assignee=centre.mdt,
        due_on=today + datetime.timedelta(days=9),
    )
    done = services.add_action(
        centre.supervisor,
        centre.item,
        description="済んだこと",
        assignee=centre.mdt,
        due_on=today + datetime.timedelta(days=3),
    )
    services.complete_action(centre.mdt, done)
    others = services.add_action(
        centre.supervisor,
        centre.item,
        description="主任の対応",
        assignee=centre.supervisor,
        due_on=today + datetime.timedelta(days=5),
    )
    response = page(client, centre.mdt, reverse("home"))
    assert response.status_code == 200
    body = response.content.decode()
    panel = response.context["panels"][-1][1] if response.context else None
    assert panel is not None
    assert [a.pk for a in panel["mine"]] == [mine.pk]  # open, theirs: not done, not others'
    assert reverse("meetings:action_done", kwargs={"pk": mine.pk}) in body
    assert reverse("meetings:action_done", kwargs={"pk": done.pk}) not in body
    assert reverse("meetings:action_done", kwargs={"pk": others.pk}) not in body
    due = mine.due_on
    assert f"{due.month}/{due.day}" in body and centre.agenda_case.code in body
    assert "服薬の確認" not in body  # the text is on the (audited) minutes page
    # The meeting they attend today, and their agenda case with what they may do.
    assert detail_url(centre.meeting) in body and detail_url(centre.other_meeting) not in body
    assert case_url(centre.agenda_case) in body
    assert "閲覧・議事のみ（検討終了まで）" in body
    assert case_url(centre.other_case) not in body
    # Not a caseworker's board: no empty "cases in charge" for them.
    assert "担当中のケース" not in body

    services.record_minutes(centre.supervisor, centre.item, decisions="終了", close_review=True)
    body = client.get(reverse("home")).content.decode()
    assert case_url(centre.agenda_case) not in body
    assert reverse("meetings:action_done", kwargs={"pk": mine.pk}) not in body
    assert "担当の対応事項はありません。" in body and "検討中の議題のケースはありません。" in body


def test_an_mdt_member_completes_their_action_from_the_dashboard(client, centre):
    action = services.add_action(
        centre.supervisor,
        centre.item,
        description="家族へ連絡",
        assignee=centre.mdt,
        due_on=timezone.localdate(),
    )
    client.force_login(centre.mdt)
    response = client.post(reverse("meetings:action_done", kwargs={"pk": action.pk}))
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.done_at is not None
    body = client.get(reverse("home")).content.decode()
    assert reverse("meetings:action_done", kwargs={"pk": action.pk}) not in body
