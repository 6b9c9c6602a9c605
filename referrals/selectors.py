"""Referral reads: inbox and outbox, the consent-scoped shared view, and the counts."""

from __future__ import annotations

import datetime
import statistics
import uuid
from typing import Any, TypedDict, cast

from django.db.models import Count, OuterRef, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from guardian.shortcuts import get_objects_for_user

from accounts.models import User
from accounts.policy import Sensitive, require_step_up
from accounts.reauth import NO_STEP_UP, StepUp
from audit.models import Action
from audit.services import record
from casework import signals
from casework.models import Case

from .models import Referral, Transfer

S = Referral.Status


def outbox(user: User) -> QuerySet[Referral]:
    """Referrals the user's organisation made (drafts included)."""
    return Referral.objects.sent_by(user).select_related("case", "to_organisation")


def inbox(user: User) -> QuerySet[Referral]:
    """Referrals sent to the user's organisation (drafts stay with the sender)."""
    return Referral.objects.received_by(user).select_related("case", "from_organisation")


def get_referral_for(user: User, pk: uuid.UUID | str) -> Referral:
    """A referral the user's organisation sent or received; 404 for anything else."""
    referral = (
        Referral.objects.visible_to(user)
        .select_related("case__client__municipality", "from_organisation", "to_organisation")
        .filter(pk=pk)
        .first()
    )
    if referral is None:
        raise Http404
    return referral


def transfer_for(user: User, pk: int | str) -> Transfer:
    """A transfer from or to the user's organisation; 404 for anything else."""
    transfer = Transfer.objects.visible_to(user).select_related("case").filter(pk=pk).first()
    if transfer is None:
        raise Http404
    return transfer


def read_referral(user: User, pk: uuid.UUID | str) -> Referral:
    """A referral as its detail pages show it (screen and API): found as `get_referral_for`
    finds it, and the read audited here so that every caller's is."""
    referral = get_referral_for(user, pk)
    record(Action.VIEW, obj=referral, detail={"case": referral.case.code})
    return referral


def shared_cases(user: User) -> QuerySet[Case]:
    """The referral scope of the user's organisation: the cases of the referrals sent to it
    that it accepted and still holds the shared-view grant on (not completed or withdrawn,
    consent not withdrawn); never a restricted case.

    What the grant opens of each case is `shared_view`. Meetings reach these cases through
    the signal `casework.signals.referral_scope_cases` (a case conference about a referred
    case).
    """
    referrals = get_objects_for_user(
        user,
        "referrals.view_shared_case",
        klass=Referral.objects.received_by(user).filter(
            status=S.ACCEPTED, consent_withdrawn_on__isnull=True
        ),
        accept_global_perms=False,
        with_superuser=False,
    )
    # Not a casework access kind: the cases of the referrals whose grant the organisation
    # holds (the grant is the policy), read across scope for those referrals only.
    return Case.objects.unscoped().filter(pk__in=referrals.values("case_id"), restricted=False)


def non_identifying_profile(referral: Referral) -> dict[str, Any]:
    """What any referral may carry, consent or not: nothing that names the person."""
    case = referral.case
    client = case.client
    return {
        "gender": client.get_gender_display() if client else None,
        "birth_decade": _("%(decade)s年代生") % {"decade": client.birth_year // 10 * 10}
        if client and client.birth_year
        else None,
        "municipality": str(client.municipality) if client and client.municipality else None,
        "withdrawal_band": case.get_withdrawal_band_display(),
    }


def shared_view(
    user: User, referral: Referral, *, reveal: bool = False, step_up: StepUp = NO_STEP_UP
) -> dict[str, Any]:
    """The consented parts of the case, for the receiving organisation while its grant
    lasts; the read is audited here, so every caller's is.

    Raises Http404 without the grant (before acceptance, after completion, withdrawal or
    consent withdrawal), and for a restricted case (no grant reaches one), so a guessed
    URL shows nothing either. The consented identity is decrypted only when asked for
    (`reveal`) after a fresh step-up (StepUpRequired otherwise), and audited as a reveal.
    """
    if not user.has_perm("referrals.view_shared_case", referral) or referral.consent_withdrawn_on:
        raise Http404
    case = referral.case
    if case.restricted:
        raise Http404
    parts: dict[str, Any] = {
        "profile": non_identifying_profile(referral),
        "scopes": referral.shared_scopes,
        "identity_shared": referral.share_basic_profile and case.client is not None,
    }
    client = case.client
    if reveal and parts["identity_shared"] and client is not None:
        require_step_up(Sensitive.IDENTITY, step_up=step_up)
        parts["identity"] = {
            "name": client.name,
            "name_kana": client.name_kana,
            "birth_date": client.birth_date,
            "phone": client.phone,
            "address": client.address,
        }
    if referral.share_summary:
        parts["purpose"] = referral.purpose
        parts["case_summary"] = case.summary
    if referral.share_contacts:
        parts["contacts"] = list(
            case.contacts.order_by("-occurred_at").only(
                "id", "data_key_id", "occurred_at", "channel", "consulter", "summary"
            )
        )
    if referral.share_meeting_decisions:
        # Meetings publish decisions through a signal; referrals imports no sibling.
        parts["meeting_decisions"] = [
            decision
            for _receiver, decisions in signals.case_meeting_decisions.send(sender=None, case=case)
            # The hook's answer (casework.signals); django-stubs types every answer `str | None`.
            for decision in cast("list[dict[str, Any]]", decisions)
        ]
    detail = {"case": case.code, "shared_scopes": parts["scopes"]}
    if parts.get("meeting_decisions"):  # minutes shown: named like every showing of them
        detail["minutes"] = [decision["item"] for decision in parts["meeting_decisions"]]
    record(
        Action.IDENTITY_REVEAL if "identity" in parts else Action.VIEW,
        obj=referral,
        detail=detail,
    )
    return parts


def counts(
    *, start: datetime.date, end: datetime.date, organisation_ids: list[int] | None = None
) -> dict[str, Any]:
    """Referrals sent in [start, end]: by kind and outcome, and days from sent to accepted.
    Statistics: counts across organisations (the caller narrows them by organisation)."""
    sent = Referral.objects.unscoped().filter(sent_at__date__gte=start, sent_at__date__lte=end)
    if organisation_ids is not None:
        sent = sent.filter(from_organisation_id__in=organisation_ids)
    by_kind_status = {
        (row["kind"], row["status"]): row["n"]
        for row in sent.values("kind", "status").annotate(n=Count("id"))
    }
    accepted_days = [
        (responded_at - sent_at).total_seconds() / 86400
        for sent_at, responded_at in sent.filter(responded_at__isnull=False)
        .exclude(status=S.DECLINED)
        .values_list("sent_at", "responded_at")
        if sent_at is not None and responded_at is not None  # both set (filtered above)
    ]
    return {
        "by_kind_and_status": by_kind_status,
        "total": sum(by_kind_status.values()),
        "median_days_to_accept": statistics.median(accepted_days) if accepted_days else None,
    }


def awaiting_answer(user: User) -> QuerySet[Referral]:
    """Referrals sent to the user's organisation that it has not yet accepted or declined."""
    return inbox(user).filter(status=S.SENT)


def awaiting_response(user: User) -> int:
    return awaiting_answer(user).count()


class SentAt(TypedDict):
    sent_at: datetime.datetime | None


def oldest_unanswered_sent_at(organisation_id: int) -> QuerySet[Referral, SentAt]:
    """For the outer query's case (`OuterRef("pk")`), when the oldest referral that
    `organisation_id` sent and the receiver has neither accepted nor declined was sent:
    a one-value subquery (meetings' pack ranks cases by it, on cases it reached through a
    scope)."""
    return (
        Referral.objects.unscoped()
        .filter(case_id=OuterRef("pk"), from_organisation_id=organisation_id, status=S.SENT)
        .order_by("sent_at")
        .values("sent_at")[:1]
    )


def timeline_entries(case: Case) -> list[tuple[datetime.datetime, str]]:
    """(when, text) for each referral transition and transfer of the case."""
    from .models import ReferralTransition

    entries = [
        (
            t.at,
            _("紹介（%(to)s・%(kind)s）：%(status)s（%(by)s）")
            % {
                "to": t.referral.to_organisation,
                "kind": t.referral.get_kind_display(),
                "status": t.get_to_status_display(),
                "by": t.by,
            },
        )
        for t in ReferralTransition.objects.filter(referral__case=case).select_related(
            "referral__to_organisation", "by"
        )
    ]
    entries += [
        (
            t.at,
            _("移管：%(from)s → %(to)s（%(by)s）")
            % {"from": t.from_organisation, "to": t.to_organisation, "by": t.by},
        )
        for t in case.transfers.select_related("from_organisation", "to_organisation", "by")
    ]
    return entries
