"""Findings of the outside review of issue 19: two attendees writing the same minutes, what
an MDT member's minutes may decide, who the staff pickers offer, the meeting's local date.
Through the pages, with the forms as rendered (tests/html_forms.py)."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casework import services as casework
from casework.models import Case
from meetings import services
from meetings.models import AgendaItem, Meeting
from tests.html_forms import form_posting_to, post_forms, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def centre(world):
    c = SimpleNamespace(org=world.centre)
    c.supervisor, c.counsellor, c.mdt = world.supervisor, world.counsellor, world.mdt
    c.statistics, c.auditor, c.admin = world.statistics, world.auditor, world.admin
    c.case = casework.open_case(c.counsellor, identity={"name": "同時 太郎"})
    c.meeting = services.plan_meeting(
        c.supervisor,
        kind=Meeting.Kind.MDT_MONTHLY,
        held_at=timezone.now(),
        legal_basis=Meeting.LegalBasis.SUPPORT_MEETING,
        attendees=[c.supervisor, c.mdt],
    )
    c.item = services.add_to_agenda(c.supervisor, c.meeting, case=c.case)
    return c


def minutes_url(item: AgendaItem) -> str:
    return reverse("meetings:minutes", kwargs={"pk": item.pk})


def open_form(user, item: AgendaItem):
    browser = Client()
    browser.force_login(user)
    url = minutes_url(item)
    page = browser.get(url)
    assert page.status_code == 200
    return browser, form_posting_to(page.content.decode(), url, url)


def test_the_second_of_two_attendees_saving_the_same_minutes_is_told_and_loses_nothing(centre):
    first, first_form = open_form(centre.mdt, centre.item)
    second, second_form = open_form(centre.supervisor, centre.item)
    url = minutes_url(centre.item)
    assert submit(first, first_form, url, {"discussion": "精神科医の所見"}).status_code == 302
    response = submit(second, second_form, url, {"decisions": "訪問を継続"})
    # Refused, with the reason, the minutes as saved now, and what this person typed.
    assert response.status_code == 200
    body = response.content.decode()
    assert "ほかの出席者が先に更新しました" in body
    assert "精神科医の所見" in body and "訪問を継続" in body
    item = AgendaItem.objects.get(pk=centre.item.pk)
    assert item.discussion == "精神科医の所見" and item.decisions is None
    # A second press, on the form drawn from the current version, is deliberate: saved.
    again = form_posting_to(body, url, url)
    assert submit(second, again, url).status_code == 302
    item.refresh_from_db()
    assert item.decisions == "訪問を継続"


def test_an_mdt_member_records_the_discussion_but_does_not_plan_the_case(centre):
    browser, form = open_form(centre.mdt, centre.item)
    assert {c.name for c in form.entry_fields} == {"discussion", "decisions", "close_review"}
    # A forged planning field is not taken, and the service refuses it outright.
    url = minutes_url(centre.item)
    response = browser.post(url, {"decisions": "方針", "take_on_mdt": "on", "version": ""})
    assert response.status_code == 302
    assert not Case.objects.get(pk=centre.case.pk).mdt_supported
    with pytest.raises(ValidationError):
        services.record_minutes(centre.mdt, centre.item, take_on_mdt=True)
    with pytest.raises(ValidationError):
        services.record_minutes(
            centre.mdt, centre.item, next_review_on=timezone.localdate() + datetime.timedelta(30)
        )
    # Who keeps the case plans it.
    services.record_minutes(centre.supervisor, centre.item, take_on_mdt=True)
    assert Case.objects.get(pk=centre.case.pk).mdt_supported


def test_the_staff_pickers_offer_only_people_who_take_part_in_meetings(centre):
    browser = Client()
    browser.force_login(centre.supervisor)
    pages = [
        reverse("meetings:new"),
        reverse("meetings:detail", kwargs={"pk": centre.meeting.pk}),
        minutes_url(centre.item),
    ]
    offered = set()
    for url in pages:
        body = browser.get(url).content.decode()
        for user in (centre.statistics, centre.auditor, centre.admin):
            if f'value="{user.pk}"' in body:
                offered.add((url, user.username))
        assert f'value="{centre.mdt.pk}"' in body  # an MDT member may attend and act
    assert offered == set()


def test_the_meeting_is_named_by_its_local_date():
    # 00:30 in Japan is the previous day in UTC.
    tz = timezone.get_current_timezone()
    held = datetime.datetime(2026, 12, 1, 0, 30, tzinfo=tz)
    assert str(Meeting(kind=Meeting.Kind.CASE_CONFERENCE, held_at=held)).endswith("2026-12-01")


def test_a_case_raised_at_the_meeting_is_added_on_its_day_but_not_afterwards(client, centre):
    services.record_minutes(centre.supervisor, centre.item, decisions="継続")  # held today
    raised = casework.open_case(centre.counsellor, identity={"name": "当日 花子"})
    client.force_login(centre.supervisor)
    detail = reverse("meetings:detail", kwargs={"pk": centre.meeting.pk})
    add = reverse("meetings:agenda_add", kwargs={"pk": centre.meeting.pk})
    form = next(
        f for f in post_forms(client.get(detail).content.decode()) if f.url(detail).endswith(add)
    )
    assert submit(client, form, detail, {"code": raised.code}).status_code == 302
    assert AgendaItem.objects.filter(meeting=centre.meeting, case=raised).exists()
    # The day after, the agenda is the record of what was discussed.
    Meeting.objects.filter(pk=centre.meeting.pk).update(
        held_at=timezone.now() - datetime.timedelta(days=1)
    )
    later = casework.open_case(centre.counsellor, identity={"name": "翌日 次郎"})
    body = client.get(detail).content.decode()
    assert not any(f.url(detail).endswith(add) for f in post_forms(body))
    client.post(add, {"code": later.code})
    assert not AgendaItem.objects.filter(meeting=centre.meeting, case=later).exists()


def test_the_minutes_page_shows_what_the_presenter_asks_and_the_cases_mdt_support(centre):
    supported = casework.open_case(
        centre.counsellor,
        identity={"name": "支援中 三郎"},
        confirm_duplicate=True,
        case_fields={"mdt_supported": True},
    )
    item = services.add_to_agenda(
        centre.supervisor,
        centre.meeting,
        case=supported,
        presenter=centre.counsellor,
        question="就労支援につなぐ時期",
    )
    _browser, form = open_form(centre.supervisor, item)
    browser = Client()
    browser.force_login(centre.supervisor)
    body = browser.get(minutes_url(item)).content.decode()
    assert "就労支援につなぐ時期" in body and str(centre.counsellor) in body
    assert form.named("take_on_mdt")[0].checked
