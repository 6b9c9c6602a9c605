"""Reads of the audit trail for its browser.

The trail is not organisation-scoped data (accounts.scoping leaves `Event` out): every
request writes to it, its hash chain is read whole, and its readers are auditors, who read
every organisation's events by role (`audit.view_event`). Supervisors' access review reads
their own organisation's staff's events through casework.access_review. Audit imports no
other app, so the rule lives here.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.db.models import QuerySet

from .models import Event


def auditable_events(user: AbstractUser | AnonymousUser) -> QuerySet[Event]:
    """The events `user` (the project's user, named by Django's abstract one: audit imports
    no app) may browse, newest first: all of them for an auditor, none for anyone else."""
    if not user.has_perm("audit.view_event"):
        return Event.objects.none()
    return Event.objects.order_by("-seq")
