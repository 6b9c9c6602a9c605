"""Outreach's answers to casework's extension points (casework/signals.py), connected by
importing this module in OutreachConfig.ready()."""

from __future__ import annotations

import datetime
from typing import Any

from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import User
from casework import signals
from casework.models import Case

from .models import Visit
from .selectors import my_visits_today, overdue_visits


@receiver(signals.dashboard_panel, dispatch_uid="outreach.dashboard_panel")
def dashboard_panel(sender: Any, *, user: User, **kwargs: Any) -> tuple[str, dict[str, Any]] | None:
    if not user.has_perm("outreach.view_visit"):
        return None
    overdue = None
    if user.has_perm("casework.supervise_case"):
        overdue = list(overdue_visits(now=timezone.now(), user=user))
    return "outreach/_dashboard_panel.html", {
        "today": list(my_visits_today(user)),
        "overdue": overdue,
    }


@receiver(signals.case_timeline_entries, dispatch_uid="outreach.case_timeline_entries")
def case_timeline_entries(
    sender: Any, *, case: Case, **kwargs: Any
) -> list[tuple[datetime.datetime, str]]:
    """Planned and ongoing visits; a done visit shows as its contact."""
    return [
        (
            visit.planned_start,
            gettext("%(kind)s（%(status)s）")
            % {"kind": visit.get_kind_display(), "status": visit.get_status_display()},
        )
        for visit in case.visits.exclude(status=Visit.Status.DONE)
    ]
