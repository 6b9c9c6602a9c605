"""Meetings' answers to casework's extension points (casework/signals.py), connected by
importing this module in MeetingsConfig.ready()."""

from __future__ import annotations

import datetime
from typing import Any

from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from casework import signals
from casework.models import Case
from casework.selectors import TimelineEntry
from casework.work_queue import Kind, WorkItem

from . import selectors, services
from .models import Meeting


@receiver(signals.dashboard_panel, dispatch_uid="meetings.dashboard_panel")
def dashboard_panel(sender: Any, *, user: User, **kwargs: Any) -> tuple[str, dict[str, Any]] | None:
    if not user.has_perm("meetings.view_meeting"):
        return None
    # Actions are listed by case code, only on cases whose minutes the user may read;
    # their text is minutes content, read on the (audited) minutes page they link to.
    # The meetings the user attends from today on, and the cases under open review at
    # them (for an MDT member: the cases their agenda grants open, while they last).
    cases = selectors.minutes_cases(user)
    overdue = None
    if user.has_perm("casework.supervise_case"):
        overdue = list(
            selectors.overdue_actions(user, today=timezone.localdate(), cases=cases)[:20]
        )
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return "meetings/_dashboard_panel.html", {
        "mine": list(selectors.my_open_actions(user, cases=cases)[:20]),
        "overdue": overdue,
        "meetings": list(selectors.upcoming_meetings(user, since=today)[:10]),
        "agenda": list(selectors.open_agenda_items(user, cases=cases)[:20]),
    }


@receiver(signals.work_queue_items, dispatch_uid="meetings.work_queue_items")
def work_queue_items(
    sender: Any, *, user: User, today: datetime.date, **kwargs: Any
) -> list[WorkItem]:
    """The user's open actions due today or earlier, on cases whose minutes they may
    read (selectors.my_open_actions); linked to the minutes, where their text is read."""
    if not user.has_perm("meetings.view_meeting"):
        return []
    rows = (
        selectors.my_open_actions(user)
        .filter(due_on__lte=today)
        .values_list("agenda_item_id", "due_on", "case__code")
    )
    return [
        WorkItem(Kind.ACTION, code, due, due < today, reverse("meetings:minutes", args=[item]))
        for item, due, code in rows
    ]


@receiver(signals.case_ended, dispatch_uid="meetings.case_ended")
def end_reviews(sender: Any, *, case: Case, reason: str, **kwargs: Any) -> None:
    """A case closed, merged away or transferred ends its open agenda reviews, and with
    them the MDT grants."""
    services.end_reviews(case, reason=reason)


@receiver(signals.case_meeting_decisions, dispatch_uid="meetings.case_meeting_decisions")
def case_meeting_decisions(sender: Any, *, case: Case, **kwargs: Any) -> list[dict[str, Any]]:
    """The decisions of held meetings the case's keeper hosted, newest first."""
    # Held: minutes are taken on or after the meeting's day, with the review closed or
    # not (closing it is a separate, explicit choice).
    items = case.agenda_items.filter(
        meeting__status=Meeting.Status.HELD,
        meeting__host_id=case.organisation_id,
    ).select_related("meeting")
    return [
        {
            "held_at": item.meeting.held_at,
            "kind": item.meeting.get_kind_display(),
            "decisions": item.decisions,
            "item": str(item.pk),
        }
        for item in items.order_by("-meeting__held_at")
        if item.decisions
    ]


@receiver(signals.case_timeline_entries, dispatch_uid="meetings.case_timeline_entries")
def case_timeline_entries(
    sender: Any, *, case: Case, viewer: User | None, **kwargs: Any
) -> list[TimelineEntry]:
    """Each meeting that discussed the case: date, kind and state; its decisions and
    actions for a viewer with minutes access (selectors.case_meetings)."""
    return selectors.case_timeline_entries(case, viewer=viewer)
