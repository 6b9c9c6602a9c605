"""Issue 19 point 2: a meeting's decisions and action items (description, assignee, due
date, done), with the meeting's date and kind, are on the case's timeline and in its
printable record, for whoever may read the case's minutes: the owner counsellor and the
supervisor; an attending MDT member only while the agenda grant is open; never a
statistics viewer, an auditor or a system administrator; a break-glass reader sees that a
meeting discussed the case, not what it decided. Carried-over actions show their text.
Everything through HTTP, with the real database and crypto."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from audit.models import Action, Event
from casework import services as casework
from casework.models import Case
from casework.periods import era_date
from meetings import services
from meetings.models import ActionItem, Meeting

pytestmark = pytest.mark.django_db

NAME = "決定 漏洩太郎"
DECISIONS = "決定-経過 月2回の訪問に増やす"
ACTION = "対応-経過 主治医に連絡する"
REASON = "夜間に本人から緊急の電話があり、担当者不在のため支援経過の確認が必要"
TZ = timezone.get_current_timezone()


def at(day: datetime.date, hour: int = 14) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=TZ)


def fresh(user):
    """The user as a new request sees them (permission caches empty)."""
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def w(world):
    """A centre: a counsellor keeping a case, the supervisor, an MDT member attending
    today's case conference where the case was discussed (review still open), a decision
    and an action for the counsellor; and, in the same organisation, a statistics viewer,
    an auditor and a system administrator."""
    w = SimpleNamespace(org=world.centre, world=world)
    w.counsellor = world.named(world.counsellor, "担当 花子")
    w.supervisor, w.mdt = world.supervisor, world.mdt
    w.statistics, w.auditor, w.admin = world.statistics, world.auditor, world.admin
    w.case = casework.open_case(w.counsellor, identity={"name": NAME})
    w.meeting = services.plan_meeting(
        w.supervisor,
        kind=Meeting.Kind.CASE_CONFERENCE,
        held_at=at(timezone.localdate(), 0),
        legal_basis=Meeting.LegalBasis.INTERNAL,
        attendees=[w.supervisor, w.counsellor, w.mdt],
    )
    w.item = services.add_to_agenda(w.supervisor, w.meeting, case=w.case)
    services.record_minutes(w.supervisor, w.item, decisions=DECISIONS, close_review=False)
    w.due = timezone.localdate() + datetime.timedelta(days=14)
    w.action = services.add_action(
        w.supervisor, w.item, description=ACTION, assignee=w.counsellor, due_on=w.due
    )
    return w


def case_page(client, user, case: Case, name: str = "case_detail"):
    client.force_login(user)
    return client.get(reverse(f"casework:{name}", kwargs={"code": case.code}))


def shows_the_minutes(w, html: str, *, printed: bool = False) -> None:
    """The decision and the action with their dates: on paper in the Japanese era."""

    def day(value: datetime.date) -> str:
        return era_date(value) if printed else f"{value:%Y/%m/%d}"

    assert DECISIONS in html and ACTION in html
    assert "個別ケース会議" in html  # the meeting's kind
    assert day(w.meeting.held_at.astimezone(TZ).date()) in html  # and date
    assert "担当 花子" in html and day(w.due) in html  # the assignee, the due date
    assert "未完了" in html


@pytest.mark.parametrize("who", ["counsellor", "supervisor"])
def test_the_case_keepers_see_the_decision_and_action_on_the_timeline(client, w, who):
    page = case_page(client, getattr(w, who), w.case)
    assert page.status_code == 200
    shows_the_minutes(w, page.content.decode())


def test_the_timeline_shows_an_action_done_once_it_is_done(client, w):
    services.complete_action(w.counsellor, w.action)
    html = case_page(client, w.counsellor, w.case).content.decode()
    assert ACTION in html and "完了（" in html and "未完了" not in html


def test_an_mdt_member_sees_the_decision_only_while_the_agenda_grant_is_open(client, w):
    page = case_page(client, w.mdt, w.case)
    assert page.status_code == 200
    shows_the_minutes(w, page.content.decode())

    services.record_minutes(w.supervisor, w.item, decisions=DECISIONS, close_review=True)
    closed = case_page(client, fresh(w.mdt), w.case)
    assert closed.status_code == 404
    assert DECISIONS not in closed.content.decode() and ACTION not in closed.content.decode()


@pytest.mark.parametrize("who", ["statistics", "auditor", "admin"])
@pytest.mark.parametrize("view", ["case_detail", "case_print"])
def test_statistics_auditors_and_administrators_never_see_the_decision(client, w, who, view):
    page = case_page(client, getattr(w, who), w.case, view)
    assert page.status_code in (403, 404)
    html = page.content.decode()
    assert DECISIONS not in html and ACTION not in html


def test_a_break_glass_reader_sees_the_meeting_but_not_what_it_decided(client, w):
    case = Case.objects.get(pk=w.case.pk)
    casework.update_case(
        w.supervisor, case, expected_version=case.version, changes={"restricted": True}
    )
    colleague = w.world.colleague  # no lead worker
    assert case_page(client, colleague, w.case).status_code == 404
    casework.break_glass(colleague, w.case.code, category="worker_absent", reason=REASON)
    page = case_page(client, fresh(colleague), w.case)
    assert page.status_code == 200
    html = page.content.decode()
    assert "個別ケース会議" in html  # that a meeting discussed it, and when
    assert DECISIONS not in html and ACTION not in html
    assert case_page(client, fresh(colleague), w.case, "case_print").status_code == 403


def test_reading_the_decisions_on_the_timeline_is_audited_without_their_text(client, w):
    case_page(client, w.counsellor, w.case)
    event = Event.objects.filter(action=Action.VIEW, object_ref=w.case.code).last()
    assert event.actor_id == w.counsellor.pk
    assert event.detail == {"minutes": [str(w.item.pk)]}
    every_detail = repr(list(Event.objects.values_list("detail", flat=True)))
    assert "決定-経過" not in every_detail and "対応-経過" not in every_detail


def test_decisions_and_actions_stay_ciphertext_at_rest(w):
    with connection.cursor() as cursor:
        for table in ("meetings_agendaitem", "meetings_actionitem"):
            cursor.execute(f"SELECT * FROM {table}")
            rows = repr(cursor.fetchall())
            assert "決定-経過" not in rows and "対応-経過" not in rows, table


def test_the_printable_record_carries_the_decisions_without_identity_and_is_audited(client, w):
    detail = case_page(client, w.counsellor, w.case).content.decode()
    url = reverse("casework:case_print", kwargs={"code": w.case.code})
    assert url in detail  # the case page offers it
    page = case_page(client, w.counsellor, w.case, "case_print")
    assert page.status_code == 200
    html = page.content.decode()
    shows_the_minutes(w, html, printed=True)
    assert w.case.code in html and "取扱注意" in html
    assert NAME not in html
    event = Event.objects.get(action=Action.EXPORT, object_ref=w.case.code)
    assert event.actor_id == w.counsellor.pk
    assert event.detail["format"] == "print"
    assert event.detail["minutes"] == [str(w.item.pk)]
    assert "決定-経過" not in repr(event.detail)


def test_the_printable_record_is_for_the_case_keepers_only(client, w):
    """Printing is an export: an MDT member reads the case (and its minutes) on screen
    while the grant is open, but cannot take it away on paper."""
    assert case_page(client, w.supervisor, w.case, "case_print").status_code == 200
    page = case_page(client, w.mdt, w.case, "case_print")
    assert page.status_code == 403
    assert DECISIONS not in page.content.decode()
    stranger = w.world.other_counsellor
    assert case_page(client, stranger, w.case, "case_print").status_code == 404
    exports = Event.objects.filter(action=Action.EXPORT, object_ref=w.case.code)
    assert [e.actor_id for e in exports] == [w.supervisor.pk]  # the refused ones left none


def test_carried_over_actions_show_their_text_on_the_next_meeting_and_its_print(client, w):
    services.record_minutes(w.supervisor, w.item, decisions=DECISIONS, close_review=True)
    later = services.plan_meeting(
        w.supervisor,
        kind=Meeting.Kind.CASE_CONFERENCE,
        held_at=at(timezone.localdate() + datetime.timedelta(days=30)),
        legal_basis=Meeting.LegalBasis.INTERNAL,
    )
    client.force_login(w.counsellor)
    views_before = Event.objects.filter(action=Action.VIEW).count()
    detail = client.get(reverse("meetings:detail", kwargs={"pk": later.pk})).content.decode()
    assert "前回会議からの未完了の対応事項" in detail and ACTION in detail
    read = Event.objects.filter(action=Action.VIEW).order_by("seq")[views_before:]
    assert [(e.object_ref, e.detail["minutes"]) for e in read] == [(w.case.code, [str(w.item.pk)])]
    printed = client.get(reverse("meetings:print", kwargs={"pk": later.pk})).content.decode()
    assert ACTION in printed
    export = Event.objects.filter(action=Action.EXPORT, object_ref=str(later.pk)).get()
    assert export.detail["minutes"] == [str(w.item.pk)]


def test_carried_over_actions_of_a_case_without_minutes_access_are_not_listed(client, w):
    services.record_minutes(w.supervisor, w.item, decisions=DECISIONS, close_review=True)
    later = services.plan_meeting(
        w.supervisor,
        kind=Meeting.Kind.CASE_CONFERENCE,
        held_at=at(timezone.localdate() + datetime.timedelta(days=30)),
        legal_basis=Meeting.LegalBasis.INTERNAL,
    )
    case = Case.objects.get(pk=w.case.pk)
    casework.update_case(
        w.supervisor, case, expected_version=case.version, changes={"restricted": True}
    )
    colleague = w.world.colleague
    casework.break_glass(colleague, w.case.code, category="worker_absent", reason=REASON)
    client.force_login(fresh(colleague))  # reads the case, but not its minutes
    detail = client.get(reverse("meetings:detail", kwargs={"pk": later.pk})).content.decode()
    assert ACTION not in detail
    carried = detail.split("前回会議からの未完了の対応事項")[1]
    assert w.case.code not in carried and "ありません。" in carried
    assert ActionItem.objects.filter(done_at__isnull=True).count() == 1


def test_the_timeline_reads_meetings_and_actions_in_a_fixed_number_of_queries(client, w):
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        client.force_login(w.counsellor)
        url = reverse("casework:case_detail", kwargs={"code": w.case.code})
        client.get(url)  # warm per-process caches (data keys), as a live server would
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    one = queries()
    for days in (10, 20, 30):
        earlier = services.plan_meeting(
            w.supervisor,
            kind=Meeting.Kind.MDT_MONTHLY,
            held_at=at(timezone.localdate() - datetime.timedelta(days=days)),
            legal_basis=Meeting.LegalBasis.INTERNAL,
        )
        item = services.add_to_agenda(w.supervisor, earlier, case=w.case)
        services.record_minutes(w.supervisor, item, decisions=f"決定{days}", close_review=True)
        for n in range(3):
            services.add_action(
                w.supervisor, item, description=f"対応{n}", assignee=w.counsellor, due_on=w.due
            )
    assert queries() == one
