"""Account services: unlocking a login locked by the login policy."""

from __future__ import annotations

from axes.models import AccessAttempt
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet

from audit.models import Action
from audit.services import record

from .models import User


def locked_attempts(actor) -> QuerySet[AccessAttempt]:
    """Lockouts the actor may lift: administrators all; supervisors their staff's."""
    attempts = AccessAttempt.objects.filter(failures_since_start__gte=settings.AXES_FAILURE_LIMIT)
    if actor.has_perm("accounts.change_user"):
        return attempts
    if actor.has_perm("accounts.unlock_user"):
        staff = User.objects.filter(organisation_id=actor.organisation_id).values("username")
        return attempts.filter(username__in=staff)
    return attempts.none()


@transaction.atomic
def unlock(actor, attempt_id: int) -> AccessAttempt:
    attempt = locked_attempts(actor).filter(pk=attempt_id).first()
    if attempt is None:
        raise PermissionDenied
    attempt.delete()
    record(
        Action.UNLOCK,
        object_type="accounts.User",
        object_ref=attempt.username or "",
        detail={"ip_address": attempt.ip_address},
    )
    return attempt
