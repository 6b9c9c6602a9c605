"""Outreach's answers to casework's extension points (casework/signals.py), connected by
importing this module in OutreachConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from django.utils import timezone

from accounts.models import User
from casework import signals
from casework.models import Case
from casework.selectors import TimelineEntry

from . import selectors


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


@receiver(signals.case_timeline_entries, dispatch_uid="outreach.case_timeline_entries")
def case_timeline_entries(
    sender: Any, *, case: Case, viewer: User | None, **kwargs: Any
) -> list[TimelineEntry]:
    """Planned, ongoing and cancelled visits; a done visit's place, purpose and notes
    inside the contact it logged, for a viewer who may read them
    (selectors.case_timeline_entries)."""
    return selectors.case_timeline_entries(case, viewer=viewer)
