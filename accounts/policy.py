"""Which step-up re-authentication each sensitive action needs: the one list.

Services call `require_step_up(action, step_up=...)` with the `accounts.reauth.StepUp` their
caller passes (`reauth.step_up_of(request)`; an API token never carries one), so no
screen, export or API path skips the check by forgetting a decorator; a stale step-up
raises `StepUpRequired`, which `reauth.StepUpMiddleware` turns into the
re-authentication page (a JSON 403 under the API).

Also here: which organisation an actor's records belong to (`organisation_of`).

Changing one's own second factor needs more than these (a step-up that passed the
factor too, spent by the change): `accounts.two_factor`, with `reauth.is_recent_with_factor`.
"""

from __future__ import annotations

import enum

from django.core.exceptions import PermissionDenied

from .models import User
from .reauth import StepUp


class Sensitive(enum.StrEnum):
    """Actions that need a fresh step-up (password, and the second factor if enrolled,
    within REAUTH_MINUTES)."""

    # Decrypting a client's identity: showing it, editing it, exporting it, or reading
    # the identity a referral shares (casework.services, casework.exports,
    # referrals.selectors.shared_view).
    IDENTITY = "identity"
    # Changing the date the person consented to information sharing: it decides which
    # meetings may discuss the case (casework.services.update_case).
    SHARING_CONSENT = "sharing_consent"
    # Recording that the person withdrew consent to a referral: it ends the receiving
    # organisation's view at once (referrals.services.withdraw_consent).
    WITHDRAW_CONSENT = "withdraw_consent"


class StepUpKind(enum.StrEnum):
    RECENT = "recent"  # authenticated within REAUTH_MINUTES (signing in counts)


STEP_UP: dict[Sensitive, StepUpKind] = {
    Sensitive.IDENTITY: StepUpKind.RECENT,
    Sensitive.SHARING_CONSENT: StepUpKind.RECENT,
    Sensitive.WITHDRAW_CONSENT: StepUpKind.RECENT,
}


def require_step_up(action: Sensitive, *, step_up: StepUp) -> None:
    """Refuse (`StepUpRequired`) unless `step_up` satisfies what `action` needs."""
    if STEP_UP[action] is StepUpKind.RECENT:
        step_up.require()


def organisation_of(actor: User) -> int:
    """The organisation whose records the actor writes: their own. Every account the
    application makes has one; the bootstrap superuser (`createsuperuser`) has none and
    writes no records (PermissionDenied)."""
    if actor.organisation_id is None:
        raise PermissionDenied
    return actor.organisation_id
