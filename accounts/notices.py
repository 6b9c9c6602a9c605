"""Notices to staff by e-mail: short, with codes and names of actions only, never case
content, because a message leaves the system. Each notice sent is an audit event."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from django.core.mail import send_mail

from audit.models import Action
from audit.services import record

from .models import User


def notify(
    users: Iterable[User],
    *,
    subject: str,
    body: str,
    topic: str,
    detail: dict[str, Any] | None = None,
) -> int:
    """E-mail `users` who have an address; returns how many were told. `topic` names the
    notice in the audit event (e.g. "factor_replace"), with `detail` (ids and counts);
    the text itself is not recorded."""
    recipients = sorted({u.email for u in users if getattr(u, "email", "") and u.is_active})
    if recipients:
        send_mail(subject, body, None, recipients)
    record(
        Action.NOTICE,
        object_type="notice",
        object_ref=topic,
        # Where it went, as digests: an audit can tell whether an address was changed
        # before a notice, without keeping the addresses.
        detail={
            **(detail or {}),
            "recipients": len(recipients),
            "to": [
                hashlib.sha256(address.lower().encode()).hexdigest()[:16] for address in recipients
            ],
        },
    )
    return len(recipients)
