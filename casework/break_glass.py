"""Break-glass (緊急アクセス): a request, its approval or refusal by a supervisor, and the
review afterwards. The policy of who reaches what is casework.access; each step is
audited (the category and outcome, never the reason's text, which is encrypted under the
case's data key). Views call these through casework.services, which re-exports them.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from audit.models import Action
from audit.services import record

from . import access
from .access import Capability
from .models import BreakGlass, Case
from .selectors import break_glass_queue, break_glass_requests

# --- break-glass -----------------------------------------------------------------------------

BREAK_GLASS_MIN_REASON = 10


def _supervisors_of(organisation_id: int) -> QuerySet[User]:
    from accounts.selectors import holders_of

    return holders_of("casework.supervise_case", organisation_id=organisation_id)


def _notify_break_glass(
    grant: BreakGlass, *, to_users: Iterable[User], topic: str, text: str
) -> None:
    from accounts.notices import notify

    code = grant.case.code if grant.case is not None else grant.requested_code
    notify(
        to_users,
        subject=_("緊急アクセス：%(code)s") % {"code": code},
        body=text
        + "\n"
        + _("ケース：%(code)s／職員：%(user)s／区分：%(category)s")
        % {"code": code, "user": grant.user, "category": grant.get_category_display()},
        topic=topic,
    )


def break_glass(user: User, code: str, *, category: str, reason: str) -> BreakGlass:
    """緊急アクセス, by the policy of casework.access (docs/security.md, finding 6):

    - only holders of casework.break_glass; at most BREAK_GLASS_DAILY_LIMIT requests a day;
    - a reason category and a free text, which is encrypted under the case's data key (the
      audit chain records the category, never the text);
    - a case of the user's own organisation they cannot already read (a restricted one)
      opens at once, read-only, for BREAK_GLASS_MINUTES, and its supervisors are told;
    - a case of another organisation opens only when a supervisor of that organisation
      approves; staff of partner organisations and restricted cases of other
      organisations are never eligible;
    - an unknown or ineligible code gets the same answer as a request waiting for approval
      (it is kept, without a case and without its text, and lapses), so the form tells
      nobody whether a code exists.
    """
    if not user.has_perm("casework.break_glass"):
        raise PermissionDenied
    reason = reason.strip()
    _check_reason(category, reason)
    now = timezone.now()
    code = code.strip().upper()[:20]
    _check_daily_limit(user, code=code, category=category, now=now)
    case = Case.objects.unscoped().filter(code=code).select_related("organisation").first()
    outcome = _outcome(user, case)
    with transaction.atomic():
        grant = _record_grant(
            user, case, code=code, category=category, reason=reason, outcome=outcome, now=now
        )
        record(
            Action.BREAK_GLASS,
            object_type="casework.Case",
            object_ref=grant.case.code if grant.case is not None else code,
            detail={"category": category, "outcome": outcome, "grant": grant.pk},
        )
        _tell_supervisors(grant, outcome)
    return grant


def _check_reason(category: str, reason: str) -> None:
    errors: dict[str, str] = {}
    if category not in BreakGlass.Category.values:
        errors["category"] = _("理由の区分を選んでください。")
    if len(reason) < BREAK_GLASS_MIN_REASON:
        errors["reason"] = _("理由を具体的に（%(n)d文字以上）書いてください。") % {
            "n": BREAK_GLASS_MIN_REASON
        }
    if errors:
        raise ValidationError(errors)


def _check_daily_limit(user: User, *, code: str, category: str, now: datetime.datetime) -> None:
    """At most BREAK_GLASS_DAILY_LIMIT requests in 24 hours; one more is audited, refused."""
    recent = BreakGlass.objects.filter(
        user_id=user.pk, requested_at__gt=now - datetime.timedelta(hours=24)
    ).count()
    if recent < settings.BREAK_GLASS_DAILY_LIMIT:
        return
    record(
        Action.BREAK_GLASS,
        object_type="casework.Case",
        object_ref=code,
        detail={"category": category, "outcome": "rate_limited", "recent": recent},
    )
    raise ValidationError(
        {
            "code": _(
                "緊急アクセスの申請は24時間に%(n)d件までです。スーパーバイザーに連絡してください。"
            )
            % {"n": settings.BREAK_GLASS_DAILY_LIMIT}
        }
    )


def _outcome(user: User, case: Case | None) -> str:
    """ "granted" (own organisation, not readable yet), "already" (own, readable),
    "requested" (another organisation's, eligible) or "lapsed" (none, or not eligible)."""
    if case is not None and case.organisation_id == user.organisation_id:
        already = access.access_to(user, case).allows(Capability.READ)
        return "already" if already else "granted"
    if (
        case is not None
        and not case.restricted
        and user.organisation is not None
        and user.organisation.kind != Organisation.Kind.PARTNER
    ):
        return "requested"
    return "lapsed"


def _record_grant(
    user: User,
    case: Case | None,
    *,
    code: str,
    category: str,
    reason: str,
    outcome: str,
    now: datetime.datetime,
) -> BreakGlass:
    grant = BreakGlass.objects.create(
        user=user,
        case=case if outcome != "lapsed" else None,
        requested_code=code,
        category=category,
        cross_organisation=outcome == "requested",
        requested_at=now,
        approved_at=now if outcome in ("granted", "already") else None,
        expires_at=(
            now + datetime.timedelta(minutes=settings.BREAK_GLASS_MINUTES)
            if outcome == "granted"
            else (now if outcome == "already" else None)
        ),
        reviewed_at=now if outcome == "already" else None,
    )
    if grant.case is not None and outcome != "already":
        # Bound to the row, so the text is written once its key exists.
        grant.data_key_id = grant.case.data_key_id
        grant.reason_text = reason
        grant.save(update_fields=["data_key", "reason_text"])
    return grant


def _tell_supervisors(grant: BreakGlass, outcome: str) -> None:
    if outcome == "granted":
        text = _("緊急アクセスが開始されました。内容を確認してください。")
    elif outcome == "requested":
        text = _("他の組織の職員から緊急アクセスの申請があります。承認または却下してください。")
    else:
        return
    if grant.case is None:  # not for an outcome above; says so to the type checker
        return
    _notify_break_glass(
        grant,
        to_users=_supervisors_of(grant.case.organisation_id),
        topic=f"break_glass_{outcome}",
        text=text,
    )


def _decide_break_glass(user: User, grant_id: int, *, approve: bool) -> BreakGlass:
    with transaction.atomic():
        grant = (
            break_glass_requests(user).select_for_update(of=("self",)).filter(pk=grant_id).first()
        )
        if grant is None or grant.case is None:  # a request is for a case (the selector)
            raise PermissionDenied
        now = timezone.now()
        if approve:
            grant.approved_at = now
            grant.approved_by = user
            grant.expires_at = now + datetime.timedelta(minutes=settings.BREAK_GLASS_MINUTES)
        else:
            grant.refused_at = now
            grant.approved_by = user
        grant.save(update_fields=["approved_at", "approved_by", "expires_at", "refused_at"])
        record(
            Action.APPROVAL_DECISION,
            object_type="casework.BreakGlass",
            object_ref=str(grant.pk),
            detail={
                "case": grant.case.code,
                "approved": approve,
                "requested_by": grant.user_id,
                "category": grant.category,
            },
        )
        _notify_break_glass(
            grant,
            to_users=[grant.user],
            topic="break_glass_decided",
            text=_("緊急アクセスの申請が承認されました。")
            if approve
            else _("緊急アクセスの申請は却下されました。"),
        )
    return grant


def approve_break_glass(user: User, grant_id: int) -> BreakGlass:
    """A supervisor of the case's organisation lets a request from another organisation
    start now, for BREAK_GLASS_MINUTES; both names are in the audit chain."""
    return _decide_break_glass(user, grant_id, approve=True)


def refuse_break_glass(user: User, grant_id: int) -> BreakGlass:
    return _decide_break_glass(user, grant_id, approve=False)


def review_break_glass(user: User, grant_id: int, *, note: str) -> None:
    grant = break_glass_queue(user).filter(pk=grant_id).first()
    if grant is None or grant.case is None:  # the queue holds accesses to a case
        raise PermissionDenied
    with transaction.atomic():
        grant.reviewed_at = timezone.now()
        grant.reviewed_by = user
        if grant.data_key_id is None:  # an access recorded before reasons were encrypted
            grant.data_key_id = grant.case.data_key_id
        grant.review_note = note.strip()[:2000] or None
        grant.save(update_fields=["reviewed_at", "reviewed_by", "review_note", "data_key"])
        record(
            Action.UPDATE,
            object_type="casework.BreakGlass",
            object_ref=str(grant.pk),
            detail={"reviewed": True, "case": grant.case.code, "by_user": grant.user_id},
        )
