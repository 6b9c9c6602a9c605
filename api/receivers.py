"""api's listeners to the extension points of other apps (accounts.signals)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from accounts.models import User
from audit.models import Action
from audit.services import record

from .models import ApiToken


def revoke_tokens_on_credential_change(
    sender: Any, *, user: User, reason: str, actor: User | None = None, **kwargs: Any
) -> int:
    """A token made under the old password or factor must not outlive them: a stolen
    token would otherwise survive the very reset meant to shut the thief out."""
    revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if revoked:
        record(
            Action.TOKEN_REVOKE,
            obj=user,
            detail={"tokens": revoked, "reason": reason},
            actor=actor,
        )
    return revoked
