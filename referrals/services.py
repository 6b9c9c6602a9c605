"""Referral and transfer services: permission, state machine, grants and audit in one
transaction each.

The receiving organisation's access is a django-guardian object grant on the referral,
held by the organisation's group: given on acceptance, taken back when the referral is
completed or withdrawn or the person withdraws consent. What the grant opens is the
shared view (referrals.selectors.shared_view), limited to the consented scopes.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TypedDict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from accounts.models import Organisation, User, organisation_group
from accounts.policy import Sensitive, require_step_up
from accounts.reauth import StepUp
from audit.models import Action
from audit.services import record
from casework import services as casework_services
from casework.access import Capability
from casework.models import Case
from casework.selectors import require_visible

from .models import Referral, ReferralTransition, Transfer

S = Referral.Status

# state → {next state: which side may move it there}
TRANSITIONS: dict[str, dict[str, str]] = {
    S.DRAFT: {S.SENT: "sender", S.WITHDRAWN: "sender"},
    S.SENT: {S.ACCEPTED: "receiver", S.DECLINED: "receiver", S.WITHDRAWN: "sender"},
    S.ACCEPTED: {S.COMPLETED: "receiver", S.WITHDRAWN: "sender"},
    S.DECLINED: {},
    S.COMPLETED: {},
    S.WITHDRAWN: {},
}
SHARED = "referrals.view_shared_case"


class Consent(TypedDict, total=False):
    """The person's consent to the referral's shared scopes (Referral's consent fields)."""

    consent_given: bool
    consent_on: datetime.date | None
    consent_method: str


class Scopes(TypedDict, total=False):
    """What the receiving side may see once it accepts (Referral.SCOPES); unnamed: not."""

    share_basic_profile: bool
    share_summary: bool
    share_contacts: bool
    share_meeting_decisions: bool


def scopes_named(names: Iterable[str]) -> Scopes:
    """The Scopes sharing `names` (of Referral.SCOPES) and nothing else; an unknown name is
    refused (ValueError)."""
    chosen = set(names)
    unknown = chosen - set(Referral.SCOPES)
    if unknown:
        raise ValueError(f"unknown referral scopes: {sorted(unknown)}")
    return {
        "share_basic_profile": "share_basic_profile" in chosen,
        "share_summary": "share_summary" in chosen,
        "share_contacts": "share_contacts" in chosen,
        "share_meeting_decisions": "share_meeting_decisions" in chosen,
    }


@transaction.atomic
def create_referral(
    actor: User,
    case: Case,
    *,
    to_organisation: Organisation,
    kind: str,
    purpose: str = "",
    consent: Consent | None = None,
    scopes: Scopes | None = None,
) -> Referral:
    if not actor.has_perm("referrals.add_referral"):
        raise PermissionDenied
    if case.organisation_id != actor.organisation_id:
        raise PermissionDenied
    require_visible(actor, case, capability=Capability.WRITE)
    if case.restricted:
        # No grant reaches a restricted case (casework.access), a referral's included.
        raise ValidationError(
            _("閲覧制限のあるケースは紹介できません。制限を外してから紹介してください。")
        )
    referral = Referral(
        case=case,
        data_key=case.data_key,
        from_organisation_id=case.organisation_id,  # the actor's (checked above)
        to_organisation=to_organisation,
        kind=kind,
        purpose=purpose or None,
        created_by=actor,
        **(consent or {}),
        **(scopes or {}),
    )
    referral.full_clean(exclude=["data_key"])
    referral.save()
    ReferralTransition.objects.create(
        referral=referral, from_status="", to_status=S.DRAFT, by=actor
    )
    record(
        Action.CREATE,
        obj=referral,
        detail={"case": case.code, "to": to_organisation.pk, "scopes": referral.shared_scopes},
    )
    return referral


def _side(actor: User, referral: Referral) -> str | None:
    if actor.organisation_id == referral.from_organisation_id:
        return "sender"
    if actor.organisation_id == referral.to_organisation_id:
        return "receiver"
    return None


@transaction.atomic
def move(actor: User, referral: Referral, *, to_status: str, note: str = "") -> Referral:
    """Move a referral to its next state; anything the state machine does not allow, or
    the wrong side attempting it, is refused with a message and changes nothing."""
    if not actor.has_perm("referrals.change_referral"):
        raise PermissionDenied
    current = Referral.objects.unscoped().select_for_update().get(pk=referral.pk)
    side = _side(actor, current)
    if side is None:
        raise PermissionDenied
    allowed = TRANSITIONS[current.status]
    if to_status not in allowed:
        raise ValidationError(
            _("「%(from)s」から「%(to)s」には変更できません。")
            % {
                "from": current.get_status_display(),
                "to": S(to_status).label if to_status in S.values else to_status,
            }
        )
    if allowed[to_status] != side:
        raise PermissionDenied
    if to_status == S.DECLINED and not note.strip():
        raise ValidationError(_("辞退の理由を入力してください。"))
    previous = current.status
    current.status = to_status
    now = timezone.now()
    if to_status == S.SENT:
        current.sent_at = now
    elif to_status in (S.ACCEPTED, S.DECLINED):
        current.responded_at = now
        current.response_note = note or None
    else:
        current.closed_at = now
    current.save()
    group = organisation_group(current.to_organisation_id)
    if to_status == S.ACCEPTED and current.consent_withdrawn_on is None:
        assign_perm(SHARED, group, current)
    elif to_status in (S.COMPLETED, S.WITHDRAWN):
        remove_perm(SHARED, group, current)
    ReferralTransition.objects.create(
        referral=current, from_status=previous, to_status=to_status, by=actor
    )
    record(
        Action.UPDATE,
        obj=current,
        detail={"case": current.case.code, "from": previous, "to": to_status},
    )
    return current


@transaction.atomic
def withdraw_consent(
    actor: User, referral: Referral, *, step_up: StepUp, on: datetime.date | None = None
) -> Referral:
    """The person withdrew consent: the receiving side loses the shared view at once. The
    sender records it, after a fresh step-up (accounts.policy)."""
    if not actor.has_perm("referrals.change_referral") or _side(actor, referral) != "sender":
        raise PermissionDenied
    require_step_up(Sensitive.WITHDRAW_CONSENT, step_up=step_up)
    current = Referral.objects.unscoped().select_for_update().get(pk=referral.pk)
    current.consent_withdrawn_on = on or timezone.localdate()
    current.save()
    remove_perm(SHARED, organisation_group(current.to_organisation_id), current)
    record(Action.UPDATE, obj=current, detail={"case": current.case.code, "consent": "withdrawn"})
    return current


# --- transfers ----------------------------------------------------------------------------


@transaction.atomic
def transfer_case(actor: User, case: Case, *, to_organisation: Organisation) -> Transfer:
    """移管: the case and its history move; the old organisation keeps a read-only view of
    the records it wrote for TRANSFER_READ_BACK_DAYS (casework.access, transfer read-back)."""
    if not actor.has_perms(["casework.supervise_case", "referrals.add_referral"]):
        raise PermissionDenied
    if case.organisation_id != actor.organisation_id:
        raise PermissionDenied
    require_visible(actor, case, capability=Capability.WRITE)
    if to_organisation.pk == case.organisation_id:
        raise ValidationError(_("移管先には別の組織を選んでください。"))
    locked = Case.objects.unscoped().select_for_update().get(pk=case.pk)
    transfer = Transfer.objects.create(
        case=locked,
        from_organisation_id=locked.organisation_id,
        to_organisation=to_organisation,
        by=actor,
    )
    old_organisation_id = locked.organisation_id
    locked.organisation = to_organisation
    locked.version += 1
    locked.updated_by = actor
    locked.updated_at = timezone.now()
    locked.save()
    locked.lead_workers.clear()
    casework_services.grant_read_back(actor, locked, organisation_id=old_organisation_id)
    # The old organisation's open agenda reviews end, and their MDT grants with them.
    casework_services.notify_case_ended(locked, reason="transferred")
    record(
        Action.UPDATE,
        obj=locked,
        detail={"transferred_to": to_organisation.pk, "from": transfer.from_organisation_id},
    )
    return transfer


@transaction.atomic
def end_transfer_access(actor: User, transfer: Transfer) -> Transfer:
    if not actor.has_perm("casework.supervise_case") or actor.organisation_id not in (
        transfer.from_organisation_id,
        transfer.to_organisation_id,
    ):
        raise PermissionDenied
    casework_services.end_read_back(
        actor, transfer.case, organisation_id=transfer.from_organisation_id
    )
    transfer.access_ended_at = timezone.now()
    transfer.access_ended_by = actor
    transfer.save()
    record(
        Action.UPDATE,
        obj=transfer.case,
        detail={"transfer_access_ended": transfer.from_organisation_id},
    )
    return transfer
