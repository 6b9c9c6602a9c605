"""Outreach's answers to casework's extension points (casework/signals.py), connected by
importing this module in OutreachConfig.ready()."""

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

from . import selectors
from .models import Visit


@receiver(signals.dashboard_panel, dispatch_uid="outreach.dashboard_panel")
def dashboard_panel(sender: Any, *, user: User, **kwargs: Any) -> tuple[str, dict[str, Any]] | None:
    if not user.has_perm("outreach.view_visit"):
        return None
    overdue = None
    if user.has_perm("casework.supervise_case"):
        overdue = list(selectors.overdue_visits(now=timezone.now(), user=user))
    return "outreach/_dashboard_panel.html", {
        "today": list(selectors.my_visits_today(user)),
        "overdue": overdue,
    }


@receiver(signals.work_queue_items, dispatch_uid="outreach.work_queue_items")
def work_queue_items(
    sender: Any, *, user: User, today: datetime.date, now: datetime.datetime, **kwargs: Any
) -> list[WorkItem]:
    """The user's visits past their planned start without check-in: overdue once the
    check-in deadline has passed, or when a visit planned before today never started."""
    if not user.has_perm("outreach.view_visit"):
        return []
    items = []
    for visit in (
        selectors.my_unchecked_visits(user, now=now)
        .only("pk", "planned_start", "status", "checked_in_at", "checkin_due_at", "case__code")
        .select_related("case")
    ):
        day = timezone.localtime(visit.planned_start).date()
        late = visit.is_overdue(now) or (visit.status == Visit.Status.PLANNED and day < today)
        items.append(
            WorkItem(
                Kind.VISIT,
                visit.case.code,
                day,
                late,
                reverse("outreach:visit_detail", args=[visit.pk]),
            )
        )
    return items


@receiver(signals.case_timeline_entries, dispatch_uid="outreach.case_timeline_entries")
def case_timeline_entries(
    sender: Any, *, case: Case, viewer: User | None, **kwargs: Any
) -> list[TimelineEntry]:
    """Planned, ongoing and cancelled visits; a done visit's place, purpose and notes
    inside the contact it logged, for a viewer who may read them
    (selectors.case_timeline_entries)."""
    return selectors.case_timeline_entries(case, viewer=viewer)
