"""Referrals' answers to casework's extension points (casework/signals.py), connected by
importing this module in ReferralsConfig.ready()."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from casework import signals
from casework.models import Case
from casework.work_queue import Kind, WorkItem

from . import selectors
from .models import Referral


@receiver(signals.case_timeline_entries, dispatch_uid="referrals.case_timeline_entries")
def case_timeline_entries(
    sender: Any, *, case: Case, **kwargs: Any
) -> list[tuple[datetime.datetime, str]]:
    """Referral transitions and transfers shown in the case history."""
    return selectors.timeline_entries(case)


@receiver(signals.referral_scope_cases, dispatch_uid="referrals.referral_scope_cases")
def referral_scope_cases(sender: Any, *, user: User, **kwargs: Any) -> QuerySet[Case]:
    """The cases the user's organisation reaches through its referral grants
    (selectors.shared_cases), for meetings' case conferences."""
    return selectors.shared_cases(user)


@receiver(signals.referral_unanswered_since, dispatch_uid="referrals.referral_unanswered_since")
def referral_unanswered_since(
    sender: Any, *, organisation_id: int, **kwargs: Any
) -> QuerySet[Referral, selectors.SentAt]:
    """When a case's oldest referral from `organisation_id` still awaiting the receiver's
    answer was sent (selectors.oldest_unanswered_sent_at)."""
    return selectors.oldest_unanswered_sent_at(organisation_id)


@receiver(signals.dashboard_panel, dispatch_uid="referrals.dashboard_panel")
def dashboard_panel(sender: Any, *, user: User, **kwargs: Any) -> tuple[str, dict[str, Any]] | None:
    if not user.has_perm("referrals.view_referral"):
        return None
    return "referrals/_dashboard_panel.html", {"awaiting": selectors.awaiting_response(user)}


@receiver(signals.work_queue_items, dispatch_uid="referrals.work_queue_items")
def work_queue_items(
    sender: Any, *, user: User, today: datetime.date, **kwargs: Any
) -> list[WorkItem]:
    """Referrals waiting for the organisation's answer, dated by when they were sent;
    overdue after REFERRAL_ANSWER_DAYS."""
    if not user.has_perm("referrals.view_referral"):
        return []
    latest = today - datetime.timedelta(days=settings.REFERRAL_ANSWER_DAYS)
    items = []
    for pk, sent_at, created_at, code in selectors.awaiting_answer(user).values_list(
        "pk", "sent_at", "created_at", "case__code"
    ):
        day = timezone.localtime(sent_at or created_at).date()
        items.append(
            WorkItem(Kind.REFERRAL, code, day, day < latest, reverse("referrals:detail", args=[pk]))
        )
    return items
