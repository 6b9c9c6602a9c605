"""Changes to another person's account that need a second person (issue 17, finding 2).

An administrator asks; somebody else approves; only then does the change happen. Every
step is in the audit chain with both names. The policy (docs/security.md):

- A role that sees case content (counsellor, outreach worker, MDT member, municipal
  liaison: roles.APPROVAL_ROLES minus the privileged ones) is approved by a supervisor of
  the target user's organisation: an active holder of accounts.approve_staff_change in
  that organisation.
- A privileged role (supervisor, auditor, system administrator: roles.PRIVILEGED_ROLES)
  is approved by a second administrator: an active holder of
  accounts.approve_privileged_change, with a re-authentication in the last
  REAUTH_MINUTES.
- A password reset or a second-factor reset is approved by a supervisor of the target's
  organisation, or by a second administrator (with re-authentication) when the target
  holds a privileged role.
- Nobody asks for or decides a change to their own account; the requester never decides
  their own request. A request expires after APPROVAL_REQUEST_HOURS (default 72) and is
  checked again in full when decided: requester still an administrator, target still
  active and in the same organisation, approver still entitled, the role not yet held.
- A password reset sets a random temporary password when approved and shows it once, to
  the approver, who hands it to the person; it is never stored in plaintext, and the
  user must choose a new password at the next sign-in. The approver of a password reset
  may not be a party to a second-factor reset of the same account in the last
  RESET_SEPARATION_DAYS (7), and the reverse: nobody holds both a temporary password and
  an account without its second factor.
- Roles that see no case content and are not privileged (statistics viewer) and every
  removal of a role take effect at once, audited.

The rules hold below the admin: accounts.models refuses, inside any request, a role of
roles.APPROVAL_ROLES added other than through `approve` here, and any change to one's own
roles, organisation or flags.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import Action
from audit.services import record

from .admin_audit import record_admin_change
from .models import ApprovalRequest, User, approved_role_grant
from .notices import notify
from .roles import APPROVAL_ROLES, PRIVILEGED_ROLES, Role
from .selectors import holders_of
from .signals import credentials_changed

Kind = ApprovalRequest.Kind
Status = ApprovalRequest.Status
Approver = ApprovalRequest.Approver

RESET_SEPARATION_DAYS = 7
# Unambiguous letters and digits; 16 of them are about 80 bits.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class ApprovalRefused(PermissionDenied):
    """A request or decision that the policy refuses; the message is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StepUpRequired(PermissionDenied):
    """Approving this change needs a recent re-authentication (accounts.reauth)."""


@dataclass
class Decision:
    request: ApprovalRequest
    temporary_password: str = field(default="", repr=False)


@dataclass
class RoleChange:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    requested: list[ApprovalRequest] = field(default_factory=list)


def lifetime() -> datetime.timedelta:
    return datetime.timedelta(hours=getattr(settings, "APPROVAL_REQUEST_HOURS", 72))


def is_privileged(user: User) -> bool:
    return user.groups.filter(name__in=[r.value for r in PRIVILEGED_ROLES]).exists()


def required_approver(kind: str, target: User, role: str = "") -> str:
    if kind == Kind.ROLE:
        return Approver.SECOND_ADMIN if role in PRIVILEGED_ROLES else Approver.SUPERVISOR
    return Approver.SECOND_ADMIN if is_privileged(target) else Approver.SUPERVISOR


def needs_step_up(request: ApprovalRequest) -> bool:
    return required_approver(request.kind, request.target, request.role) == Approver.SECOND_ADMIN


def may_decide(person: User, request: ApprovalRequest) -> bool:
    """Whether `person` is entitled to decide `request` now (the policy above)."""
    if not person.is_active or person.pk in (request.requested_by_id, request.target_id):
        return False
    if required_approver(request.kind, request.target, request.role) == Approver.SECOND_ADMIN:
        return person.has_perm("accounts.approve_privileged_change")
    return (
        person.has_perm("accounts.approve_staff_change")
        and person.organisation_id is not None
        and person.organisation_id == request.target.organisation_id
    )


def _expire_overdue() -> None:
    ApprovalRequest.objects.filter(status=Status.PENDING, expires_at__lte=timezone.now()).update(
        status=Status.EXPIRED
    )


def decidable(person: User) -> list[ApprovalRequest]:
    """Pending requests `person` may decide, oldest first."""
    if not (
        person.has_perm("accounts.approve_staff_change")
        or person.has_perm("accounts.approve_privileged_change")
    ):
        return []
    pending = (
        ApprovalRequest.objects.filter(status=Status.PENDING, expires_at__gt=timezone.now())
        .exclude(Q(requested_by=person) | Q(target=person))
        .select_related("target", "target__organisation", "requested_by")
        .order_by("requested_at")
    )
    return [r for r in pending if may_decide(person, r)]


def made_by(person: User) -> QuerySet[ApprovalRequest]:
    """The requests `person` made, newest first (what happened to them)."""
    return ApprovalRequest.objects.filter(requested_by=person).select_related(
        "target", "decided_by"
    )[:50]


def pending_for_target(target: User) -> QuerySet[ApprovalRequest]:
    return ApprovalRequest.objects.filter(
        target=target, status=Status.PENDING, expires_at__gt=timezone.now()
    )


def _require_requester(actor: User, target: User) -> None:
    if not (actor.is_active and actor.has_perm("accounts.change_user")):
        raise PermissionDenied
    if actor.pk == target.pk:
        raise ApprovalRefused(_("自分自身のアカウントについては依頼できません。"))
    if not target.is_active:
        raise ApprovalRefused(_("無効な職員のアカウントについては依頼できません。"))


def _names(request: ApprovalRequest) -> dict[str, object]:
    return {
        "request": request.pk,
        "kind": request.kind,
        "role": request.role,
        "target_organisation": request.organisation_id,
        "requested_by": request.requested_by.username,
    }


def _approvers(request: ApprovalRequest) -> list[User]:
    if request.approver == Approver.SECOND_ADMIN:
        candidates = holders_of("accounts.approve_privileged_change")
    else:
        candidates = holders_of(
            "accounts.approve_staff_change", organisation_id=request.target.organisation_id
        )
    return [u for u in candidates if may_decide(u, request)]


@transaction.atomic
def _ask(actor: User, target: User, kind: str, role: str = "") -> ApprovalRequest:
    _require_requester(actor, target)
    _expire_overdue()
    existing = pending_for_target(target).filter(kind=kind, role=role).first()
    if existing is not None:
        return existing
    now = timezone.now()
    request = ApprovalRequest.objects.create(
        kind=kind,
        target=target,
        role=role,
        organisation_id=target.organisation_id,
        approver=required_approver(kind, target, role),
        requested_by=actor,
        requested_at=now,
        expires_at=now + lifetime(),
    )
    record(
        Action.APPROVAL_REQUEST,
        obj=target,
        actor=actor,
        detail={**_names(request), "approver": request.approver},
    )
    notify(
        _approvers(request),
        subject=_("【承認依頼】%(kind)s") % {"kind": request.get_kind_display()},
        body=_(
            "%(requester)s さんから、%(target)s さんについての承認依頼（%(kind)s）があります。"
            "システムの「承認待ちの依頼」画面で確認してください。"
        )
        % {
            "requester": actor.username,
            "target": target.username,
            "kind": request.get_kind_display(),
        },
        topic="approval_request",
    )
    return request


def request_role(*, actor: User, target: User, role: str) -> ApprovalRequest:
    if role not in APPROVAL_ROLES:
        raise ValueError(f"{role} needs no approval")
    return _ask(actor, target, Kind.ROLE, role)


def request_password_reset(*, actor: User, target: User) -> ApprovalRequest:
    return _ask(actor, target, Kind.PASSWORD_RESET)


def request_factor_reset(*, actor: User, target: User) -> ApprovalRequest:
    return _ask(actor, target, Kind.FACTOR_RESET)


@transaction.atomic
def change_roles(*, actor: User, target: User, roles: set[str]) -> RoleChange:
    """Make `target`'s roles `roles`: removals and roles without content at once, roles of
    APPROVAL_ROLES as requests for a second person."""
    _require_requester(actor, target)
    current = {r.value for r in target.roles}
    change = RoleChange()
    for role in sorted(current - roles):
        target.groups.remove(Group.objects.get(name=role))
        if role == Role.SYSTEM_ADMIN and target.is_staff and not target.is_superuser:
            target.is_staff = False
            target.save(update_fields=["is_staff"])
        record_admin_change(target, operation="role_removed", fields=["roles"], role=role)
        change.removed.append(role)
    for role in sorted(roles - current):
        if role in APPROVAL_ROLES:
            change.requested.append(request_role(actor=actor, target=target, role=role))
        else:
            target.groups.add(Group.objects.get(name=role))
            record_admin_change(target, operation="role_added", fields=["roles"], role=role)
            change.added.append(role)
    return change


def _party_to_recent(target: User, kind: str, person: User, *, as_requester: bool) -> bool:
    since = timezone.now() - datetime.timedelta(days=RESET_SEPARATION_DAYS)
    who = Q(decided_by=person) | (Q(requested_by=person) if as_requester else Q(pk__in=[]))
    return (
        ApprovalRequest.objects.filter(
            target=target, kind=kind, status=Status.APPROVED, decided_at__gte=since
        )
        .filter(who)
        .exists()
    )


def _recheck(actor: User, request: ApprovalRequest) -> None:
    """Everything the request relied on, again, at decision time."""
    target, requester = request.target, request.requested_by
    if not (requester.is_active and requester.has_perm("accounts.change_user")):
        raise ApprovalRefused(_("依頼者は現在この依頼をする権限を持っていません。"))
    if not target.is_active:
        raise ApprovalRefused(_("対象の職員のアカウントは無効になっています。"))
    if target.organisation_id != request.organisation_id:
        raise ApprovalRefused(
            _("依頼の後に対象の職員の所属が変わりました。改めて依頼してください。")
        )
    if request.kind == Kind.ROLE and target.groups.filter(name=request.role).exists():
        raise ApprovalRefused(_("対象の職員は既にこの役割を持っています。"))
    if request.kind == Kind.PASSWORD_RESET and _party_to_recent(
        target, Kind.FACTOR_RESET, actor, as_requester=True
    ):
        raise ApprovalRefused(
            _("同じ職員の二要素認証のリセットに関わった人は、パスワードの再設定を承認できません。")
        )
    if request.kind == Kind.FACTOR_RESET and (
        _party_to_recent(target, Kind.PASSWORD_RESET, actor, as_requester=False)
        or _party_to_recent(target, Kind.PASSWORD_RESET, requester, as_requester=False)
    ):
        raise ApprovalRefused(
            _(
                "同じ職員のパスワード再設定を承認した人が関わる二要素認証のリセットは承認できません。"
            )
        )


@transaction.atomic
def decide(
    *, actor: User, request_id: int, approve: bool, recently_authenticated: bool
) -> Decision:
    """Approve or refuse a request `actor` may decide. Refusing needs no re-authentication;
    approving a change that a second administrator decides does."""
    request = (
        ApprovalRequest.objects.select_for_update()
        .select_related("target", "requested_by")
        .filter(pk=request_id)
        .first()
    )
    if request is None or not may_decide(actor, request):
        raise ApprovalRequest.DoesNotExist
    if request.status != Status.PENDING:
        raise ApprovalRefused(_("この依頼は既に処理されています。"))
    if request.expires_at <= timezone.now():
        raise ApprovalRefused(_("この依頼は期限切れです。必要であれば改めて依頼してください。"))
    if approve:
        _recheck(actor, request)
        if needs_step_up(request) and not recently_authenticated:
            raise StepUpRequired
    request.status = Status.APPROVED if approve else Status.REFUSED
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "decided_by", "decided_at"])
    names = {**_names(request), "decided_by": actor.username}
    record(
        Action.APPROVAL_DECISION,
        obj=request.target,
        actor=actor,
        detail={**names, "decision": request.status},
    )
    decision = Decision(request)
    if approve:
        names["approved_by"] = actor.username
        decision.temporary_password = _apply(actor, request, names)
    return decision


def _apply(actor: User, request: ApprovalRequest, names: dict[str, object]) -> str:
    target = request.target
    if request.kind == Kind.ROLE:
        group = Group.objects.get(name=request.role)
        with approved_role_grant(target, group):
            target.groups.add(group)
        if request.role == Role.SYSTEM_ADMIN and not target.is_staff:
            target.is_staff = True  # the admin site's door; admin:* still needs the role
            target.save(update_fields=["is_staff"])
        record_admin_change(target, operation="role_added", fields=["roles"], actor=actor, **names)
        return ""
    if request.kind == Kind.PASSWORD_RESET:
        temporary = "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(4))
        target.set_password(temporary)
        target.must_change_password = True
        target.save(update_fields=["password", "must_change_password"])
        credentials_changed.send(sender=User, user=target, reason="password_reset", actor=actor)
        record(Action.PASSWORD_RESET, obj=target, actor=actor, detail=names)
        notify(
            [target],
            subject=_("パスワードが再設定されました"),
            body=_(
                "あなたのパスワードが管理者の依頼により再設定されました（承認：%(approver)s）。"
                "仮のパスワードは承認者から直接受け取ってください。次回ログイン時に新しいパスワードの"
                "設定が必要です。心当たりがない場合はすぐに所属のスーパーバイザーに連絡してください。"
            )
            % {"approver": actor.username},
            topic="password_reset",
        )
        return temporary
    TOTPDevice.objects.filter(user=target).delete()
    StaticDevice.objects.filter(user=target).delete()
    credentials_changed.send(sender=User, user=target, reason="factor_reset", actor=actor)
    record(Action.FACTOR_RESET, obj=target, actor=actor, detail=names)
    notify(
        [target],
        subject=_("二要素認証がリセットされました"),
        body=_(
            "あなたの二要素認証（認証アプリと回復コード）が管理者の依頼によりリセットされました"
            "（承認：%(approver)s）。次回ログイン時に認証アプリを登録し直してください。"
            "心当たりがない場合はすぐに所属のスーパーバイザーに連絡してください。"
        )
        % {"approver": actor.username},
        topic="factor_reset",
    )
    return ""
