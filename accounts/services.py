"""Account services: lifting a login lock set by the login policy (django-axes).

django-axes keeps one row per (user name, address, browser) with its failure count, and
locks a user name, and separately an address, whose recent failures over all its rows
reach AXES_FAILURE_LIMIT. So a lock is a sum over rows, and lifting it deletes every row
of that user name (or address). Who may lift which lock: administrators (holders of
accounts.change_user) every lock; supervisors (accounts.unlock_user) the accounts of their
organisation's staff, and an address whose recent failures all named their staff.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, cast

from axes.models import AccessAttempt
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max, QuerySet, Sum
from django.utils import timezone

from audit.context import parse_address
from audit.models import Action
from audit.services import record
from audit.signals import UNKNOWN_NAME_PREFIX

from .models import User

USERNAME = "username"
ADDRESS = "address"
KINDS = (USERNAME, ADDRESS)


@dataclass(frozen=True)
class Lockout:
    kind: str  # USERNAME or ADDRESS
    value: str  # the user name (or an unknown name's digest), the address ("" if unknown)
    failures: int
    last_attempt: datetime.datetime

    @property
    def unknown_name(self) -> bool:
        return self.kind == USERNAME and self.value.startswith(UNKNOWN_NAME_PREFIX)

    @property
    def digest(self) -> str:
        return self.value.removeprefix(UNKNOWN_NAME_PREFIX)


def _recent() -> QuerySet[AccessAttempt]:
    """The rows that still count towards a lock (django-axes' cool-off window)."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    # django-axes ships no types: its rows are typed here.
    return cast("QuerySet[AccessAttempt]", AccessAttempt.objects.filter(attempt_time__gte=since))


def _locked(rows: QuerySet[AccessAttempt], field: str) -> QuerySet[AccessAttempt, dict[str, Any]]:
    """One row per locked `field` value: {field, failures, last_attempt}."""
    locked = (
        rows.values(field)
        .annotate(failures=Sum("failures_since_start"), last_attempt=Max("attempt_time"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        .order_by("-last_attempt")
    )
    # django-axes ships no types, so neither do its rows' values: typed here.
    return cast("QuerySet[AccessAttempt, dict[str, Any]]", locked)


def lockouts(actor: User, *, kind: str | None = None, value: str | None = None) -> list[Lockout]:
    """The locks the actor may lift, newest first; `kind` and `value` pick one."""
    if not actor.has_perm("accounts.unlock_user"):
        return []
    everything = actor.has_perm("accounts.change_user")
    recent = _recent()
    staff = User.objects.filter(organisation=actor.organisation_id).values("username")
    found: list[Lockout] = []
    if kind in (None, USERNAME):
        names = recent.exclude(username__isnull=True)
        if value is not None:
            names = names.filter(username=value)
        if not everything:
            names = names.filter(username__in=staff)
        found += [
            Lockout(USERNAME, row["username"], row["failures"], row["last_attempt"])
            for row in _locked(names, "username")
        ]
    if kind in (None, ADDRESS):
        sources = recent
        if value:
            address = parse_address(value)
            sources = recent.filter(ip_address=address) if address else recent.none()
        elif value == "":  # the rows of requests that had no address
            sources = recent.filter(ip_address__isnull=True)
        if not everything:
            # Only an address whose every recent failure named one of the staff.
            foreign = recent.exclude(username__in=staff).filter(ip_address__isnull=False)
            sources = sources.filter(ip_address__isnull=False).exclude(
                ip_address__in=foreign.values("ip_address")
            )
        found += [
            Lockout(ADDRESS, row["ip_address"] or "", row["failures"], row["last_attempt"])
            for row in _locked(sources, "ip_address")
        ]
    return sorted(found, key=lambda lock: lock.last_attempt, reverse=True)


@transaction.atomic
def unlock(actor: User, *, kind: str, value: str) -> Lockout:
    """Lift one lock the actor may lift (PermissionDenied otherwise); audited."""
    if kind not in KINDS:
        raise PermissionDenied
    lock = next(iter(lockouts(actor, kind=kind, value=value)), None)
    if lock is None:
        raise PermissionDenied
    if kind == USERNAME:
        AccessAttempt.objects.filter(username=value).delete()
        record(
            Action.UNLOCK,
            object_type="accounts.User",
            object_ref=value,
            detail={"kind": USERNAME, "failures": lock.failures},
        )
    else:
        rows = AccessAttempt.objects.all()
        if lock.value:
            rows = rows.filter(ip_address=lock.value)
        else:
            rows = rows.filter(ip_address__isnull=True)
        rows.delete()
        record(
            Action.UNLOCK,
            object_type="login_source",
            object_ref=lock.value,
            detail={"kind": ADDRESS, "ip_address": lock.value or None, "failures": lock.failures},
        )
    return lock


@transaction.atomic
def set_work_digest(actor: User, *, enabled: bool) -> None:
    """The user opts in to (or out of) the daily work-queue digest, for themselves only;
    audited when it changes."""
    if actor.work_digest == enabled:
        return
    actor.work_digest = enabled
    actor.save(update_fields=["work_digest"])
    record(Action.UPDATE, obj=actor, detail={"work_digest": enabled})
