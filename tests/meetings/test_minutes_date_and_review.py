"""Issue 19 point 3: minutes are recorded only on or after the meeting's day (the local
date, settings.TIME_ZONE), refused otherwise in the service with a form error and nothing
saved; "このケースの検討を終える" is an explicit choice, not ticked by default. Through the
minutes page as rendered (tests/html_forms.py), with the real database."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from audit.models import Action, Event
from casework import services as casework
from casework.models import CaseUserObjectPermission
from meetings import services
from meetings.models import ActionItem, AgendaItem, Meeting
from tests.html_forms import form_posting_to, submit
from tests.world import World

pytestmark = pytest.mark.django_db
TZ = timezone.get_current_timezone()


def local(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=TZ)


def centre_with_meeting(world: World, held_at: datetime.datetime) -> SimpleNamespace:
    c = SimpleNamespace(org=world.centre)
    c.supervisor, c.counsellor, c.mdt = world.supervisor, world.counsellor, world.mdt
    c.case = casework.open_case(c.counsellor, identity={"name": "議事 日付"})
    c.meeting = services.plan_meeting(
        c.supervisor,
        kind=Meeting.Kind.MDT_MONTHLY,
        held_at=held_at,
        legal_basis=Meeting.LegalBasis.INTERNAL,
        attendees=[c.supervisor, c.counsellor, c.mdt],
    )
    c.item = services.add_to_agenda(c.supervisor, c.meeting, case=c.case)
    c.url = reverse("meetings:minutes", kwargs={"pk": c.item.pk})
    return c


def minutes_form(client, c):
    return form_posting_to(client.get(c.url).content.decode(), c.url, c.url)


def grant_exists(c) -> bool:
    return CaseUserObjectPermission.objects.filter(user=c.mdt, content_object=c.case).exists()


def test_minutes_for_a_meeting_dated_tomorrow_are_refused_and_nothing_is_saved(world, client):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    c = centre_with_meeting(world, local(tomorrow, 0, 30))  # just after midnight, local time
    client.force_login(c.supervisor)
    page = client.get(c.url).content.decode()
    assert f"この会議は{tomorrow:%Y/%m/%d}に開催予定です" in page  # said before typing
    form = minutes_form(client, c)
    updates = Event.objects.filter(action=Action.UPDATE).count()

    response = submit(
        client,
        form,
        c.url,
        {
            "decisions": "来月から訪問",
            "close_review": "on",
            "action_description": "家族に連絡",
            "action_assignee": str(c.counsellor.pk),
            "action_due_on": tomorrow.isoformat(),
        },
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "議事は会議の当日以降に記録してください。" in html
    assert 'class="errors"' in html  # shown as the form's error
    assert "来月から訪問" in html  # what was typed is kept on the form
    item = AgendaItem.objects.get(pk=c.item.pk)
    assert item.decisions is None and item.review_closed_at is None
    assert Meeting.objects.get(pk=c.meeting.pk).status == Meeting.Status.PLANNED
    assert not ActionItem.objects.exists()
    assert grant_exists(c)  # the review stays open, the MDT member keeps the case
    assert Event.objects.filter(action=Action.UPDATE).count() == updates
    # The agenda is not frozen: a case can still be added.
    other = casework.open_case(c.counsellor, identity={"name": "追加"}, confirm_duplicate=True)
    services.add_to_agenda(c.supervisor, Meeting.objects.get(pk=c.meeting.pk), case=other)


def test_the_service_refuses_minutes_and_actions_before_the_day_whoever_calls_it(world):
    c = centre_with_meeting(world, timezone.now() + datetime.timedelta(days=30))
    with pytest.raises(ValidationError) as refused:
        services.record_minutes(c.supervisor, c.item, decisions="先取り", close_review=True)
    assert refused.value.code == "not_yet_held"
    with pytest.raises(ValidationError):
        services.add_action(
            c.supervisor,
            c.item,
            description="先取り",
            assignee=c.counsellor,
            due_on=timezone.localdate(),
        )
    assert AgendaItem.objects.get(pk=c.item.pk).decisions is None
    assert Meeting.objects.get(pk=c.meeting.pk).status == Meeting.Status.PLANNED


def test_minutes_on_the_day_itself_are_recorded_even_before_the_hour(world, client):
    """The rule is the local date: a meeting at 23:59 today takes minutes now."""
    c = centre_with_meeting(world, local(timezone.localdate(), 23, 59))
    client.force_login(c.supervisor)
    assert "開催予定です" not in client.get(c.url).content.decode()
    response = submit(client, minutes_form(client, c), c.url, {"decisions": "継続"})
    assert response.status_code == 302
    assert AgendaItem.objects.get(pk=c.item.pk).decisions == "継続"
    assert Meeting.objects.get(pk=c.meeting.pk).status == Meeting.Status.HELD


def test_finishing_the_review_is_not_ticked_and_minutes_saved_as_shown_keep_it_open(world, client):
    c = centre_with_meeting(world, timezone.now() - datetime.timedelta(days=2))
    client.force_login(c.supervisor)
    form = minutes_form(client, c)
    (box,) = form.named("close_review")
    assert box.type == "checkbox" and not box.checked

    response = submit(client, form, c.url, {"decisions": "訪問を継続する"})

    assert response.status_code == 302
    item = AgendaItem.objects.get(pk=c.item.pk)
    assert item.decisions == "訪問を継続する" and item.review_closed_at is None
    assert grant_exists(c)


def test_finishing_the_review_when_ticked_ends_it_and_the_page_then_shows_it_finished(
    world, client
):
    c = centre_with_meeting(world, timezone.now() - datetime.timedelta(days=2))
    client.force_login(c.supervisor)
    response = submit(client, minutes_form(client, c), c.url, {"close_review": "on"})
    assert response.status_code == 302
    assert AgendaItem.objects.get(pk=c.item.pk).review_closed_at is not None
    assert not grant_exists(c)

    # Shown as finished (ticked, not editable); saving again does not reopen it.
    form = minutes_form(client, c)
    (box,) = form.named("close_review")
    assert box.checked and box.disabled
    assert "このケースの検討は終了しています。" in client.get(c.url).content.decode()
    assert submit(client, form, c.url, {"decisions": "追記"}).status_code == 302
    item = AgendaItem.objects.get(pk=c.item.pk)
    assert item.decisions == "追記" and item.review_closed_at is not None


def test_the_service_closes_the_review_only_when_asked(world):
    c = centre_with_meeting(world, timezone.now())
    services.record_minutes(c.supervisor, c.item, decisions="継続")
    assert AgendaItem.objects.get(pk=c.item.pk).review_closed_at is None
    assert grant_exists(c)
