"""Organisations, regions and users, and the invariants of who holds which role.

Invariants kept here, below every caller (admin, services, imports):
- a user is in exactly the group of their organisation (object grants to an organisation
  reach its staff through it), whatever adds or removes groups;
- inside a request nobody changes their own roles, organisation or flags; nobody sets
  superuser status or raw permissions (user or group); a role that needs a second
  person's approval (roles.APPROVAL_ROLES) is added only by accounts.approvals applying
  an approved request. Outside a request (migrations, management commands, the
  operator's shell) these rules do not apply: that is the server's operator.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.signals import m2m_changed
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit import context as audit_context
from audit.history import HistoricalRecords

from .roles import APPROVAL_ROLES, Role


def local_government_code_check_digit(five_digits: str) -> str:
    """Check digit of a 全国地方公共団体コード (JIS X 0402 style, weights 6..2, mod 11)."""
    total = sum(int(d) * w for d, w in zip(five_digits, (6, 5, 4, 3, 2), strict=True))
    # The ones digit of 11 - (total mod 11): a remainder of 0 gives 1, of 1 gives 0.
    return str((11 - total % 11) % 10)


def validate_local_government_code(value: str) -> None:
    if len(value) != 6 or not (value.isascii() and value.isdigit()):
        raise ValidationError(_("地方公共団体コードは6桁の数字で入力してください。"))
    if local_government_code_check_digit(value[:5]) != value[5]:
        raise ValidationError(_("地方公共団体コードの検査数字が正しくありません。"))


class Region(models.Model):
    """A 圏域: the unit the prefecture plans and reports by."""

    name = models.CharField(_("圏域名"), max_length=50, unique=True)
    sort_order = models.PositiveSmallIntegerField(_("表示順"), default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("圏域")
        verbose_name_plural = _("圏域")

    def __str__(self) -> str:
        return self.name


class Organisation(models.Model):
    class Kind(models.TextChoices):
        PREFECTURE_CENTRE = "prefecture_centre", _("ひきこもり地域支援センター（都道府県）")
        MUNICIPALITY = "municipality", _("市町村")
        PARTNER = "partner", _("関係機関")

    kind = models.CharField(_("種別"), max_length=32, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=200)
    local_government_code = models.CharField(
        _("地方公共団体コード"),
        max_length=6,
        blank=True,
        validators=[validate_local_government_code],
        help_text=_("市町村の場合は必須（検査数字を含む6桁）"),
    )
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("圏域")
    )
    # Municipal readiness (厚生労働省「市町村におけるひきこもり支援」): the date each step was
    # reached. History is kept, so figures "as of" a date use these dates directly.
    consultation_window_established_on = models.DateField(
        _("相談窓口の明確化（年月日）"), null=True, blank=True
    )
    needs_survey_done_on = models.DateField(_("実態把握の実施（年月日）"), null=True, blank=True)
    platform_established_on = models.DateField(
        _("プラットフォーム設置（年月日）"), null=True, blank=True
    )
    # Where the organisation sits: a centre's or partner's seat municipality (a
    # municipality sits in itself). Programmes that name no host are held here.
    seat_municipality = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"kind": "municipality"},
        verbose_name=_("所在市町村"),
        help_text=_("センター・関係機関の所在地の市町村。市町村は空欄のままで自身になります。"),
    )
    # The first day the organisation's records are complete in the system: figures for
    # days before it are not known ("—"), never zero.
    records_start = models.DateField(
        _("記録の開始日"),
        null=True,
        blank=True,
        help_text=_("この日より前の期間の数値は「—」（不明）と表示します。空欄は制限なし。"),
    )
    is_active = models.BooleanField(_("有効"), default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["kind", "local_government_code", "name"]
        verbose_name = _("組織")
        verbose_name_plural = _("組織")
        constraints = [
            models.UniqueConstraint(
                fields=["local_government_code"],
                condition=~Q(local_government_code=""),
                name="organisation_unique_local_government_code",
            ),
            models.CheckConstraint(
                condition=~Q(kind="municipality") | ~Q(local_government_code=""),
                name="organisation_municipality_has_code",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.kind == self.Kind.MUNICIPALITY and not self.local_government_code:
            raise ValidationError(
                {"local_government_code": _("市町村には地方公共団体コードが必要です。")}
            )
        if self.seat_municipality_id is not None and self.kind == self.Kind.MUNICIPALITY:
            raise ValidationError(
                {"seat_municipality": _("市町村の所在市町村は自身です。空欄にしてください。")}
            )

    @property
    def home_municipality_id(self) -> int | None:
        """The municipality the organisation sits in: itself for a municipality."""
        if self.kind == self.Kind.MUNICIPALITY:
            return self.pk
        return self.seat_municipality_id

    def readiness_as_of(self, day: datetime.date) -> dict[str, bool]:
        """Which readiness steps had been reached on `day`."""
        return {
            field: (getattr(self, field) is not None and getattr(self, field) <= day)
            for field in (
                "consultation_window_established_on",
                "needs_survey_done_on",
                "platform_established_on",
            )
        }


class User(AbstractUser):
    class Profession(models.TextChoices):
        COUNSELLOR = "counsellor", _("相談員")
        PSYCHIATRIST = "psychiatrist", _("精神科医")
        PSW = "psw", _("精神保健福祉士")
        PUBLIC_HEALTH_NURSE = "public_health_nurse", _("保健師")
        PSYCHOLOGIST = "psychologist", _("公認心理師・臨床心理士")
        SOCIAL_WORKER = "social_worker", _("社会福祉士")
        OUTREACH_WORKER = "outreach_worker", _("アウトリーチ支援員")
        ADMINISTRATIVE = "administrative", _("事務職")
        OTHER = "other", _("その他")

    # Null only for the bootstrap superuser made by createsuperuser; every account made
    # through the application or the seed belongs to an organisation.
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("所属組織"),
    )
    profession = models.CharField(_("職種"), max_length=32, choices=Profession.choices, blank=True)
    display_name = models.CharField(_("表示名"), max_length=100, blank=True)
    # Set when someone else reset the password (accounts.approvals): until the user has
    # chosen their own, they reach only the password change page
    # (accounts.middleware.PasswordChangeRequiredMiddleware).
    must_change_password = models.BooleanField(
        _("次回ログイン時にパスワードの変更が必要"), default=False, editable=False
    )
    # Opted in by the user themselves (accounts:preferences): the daily work-queue digest
    # (casework's `send_work_digest`), case codes and counts only.
    work_digest = models.BooleanField(
        _("やることリストを毎朝メールで受け取る"), default=False, editable=False
    )

    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta(AbstractUser.Meta):
        verbose_name = _("職員")
        verbose_name_plural = _("職員")
        permissions = [
            ("view_statistics", _("統計（集計値）を閲覧できる")),
            ("unlock_user", _("ログインのロックを解除できる")),
            ("requires_two_factor", _("2段階認証が必須")),
            (
                "approve_staff_change",
                _("所属組織の職員への役割付与・パスワード等の再設定を承認できる"),
            ),
            (
                "approve_privileged_change",
                _("特権的な役割の付与と特権職員の再設定を承認できる（別の管理者として）"),
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def roles(self) -> list[Role]:
        names = {g.name for g in self.groups.all()}
        return [role for role in Role if role.value in names]

    def has_role(self, role: Role) -> bool:
        return self.groups.filter(name=role.value).exists()

    def holds_approval_role(self) -> bool:
        """Holds a role that sees case content or is privileged (roles.APPROVAL_ROLES)."""
        return self.groups.filter(name__in=[r.value for r in APPROVAL_ROLES]).exists()

    def clean(self) -> None:
        super().clean()
        if self.pk is None:
            return
        stored = User.objects.filter(pk=self.pk).values_list("organisation_id", flat=True).first()
        if stored != self.organisation_id and self.holds_approval_role():
            raise ValidationError(
                {
                    "organisation": _(
                        "ケース情報を扱う役割や特権的な役割を持つ職員の所属は変更できません。"
                        "先に役割を外して保存し、所属を変えてから役割の付与を依頼してください。"
                    )
                }
            )

    @classmethod
    def from_db(cls, *args: Any, **kwargs: Any) -> User:
        user = super().from_db(*args, **kwargs)
        user._loaded_digest = (user.__dict__.get("email"), user.__dict__.get("work_digest"))
        return user

    def save(self, *args: object, **kwargs: object) -> None:
        update_fields = kwargs.get("update_fields")
        email, opted_in = getattr(self, "_loaded_digest", (None, None))
        if opted_in and self.work_digest and email is not None and self.email != email:
            # The daily digest goes only where its owner asked for it: a new address (set
            # by an administrator) needs the owner to opt in again on 個人設定.
            self.work_digest = False
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "work_digest"}  # type: ignore[misc]
        if self._password is not None and update_fields is None:
            # A new password saved whole (the password change and set-password forms)
            # ends the obligation to change it. accounts.approvals saves a temporary
            # password with update_fields and the flag set; a hash upgrade at login saves
            # update_fields=["password"] and leaves the flag as it is.
            self.must_change_password = False
        _guard_own_and_superuser_fields(self, update_fields)
        super().save(*args, **kwargs)
        self._loaded_digest = (self.email, self.work_digest)
        if update_fields is None or "organisation" in update_fields:
            self._join_organisation_group()

    def _join_organisation_group(self) -> None:
        """Invariant: a user is in exactly the group of their organisation, so that object
        grants made to an organisation (an accepted referral) reach its staff."""
        token = _syncing.set(True)
        try:
            current = [g for g in self.groups.filter(name__startswith=ORGANISATION_GROUP_PREFIX)]
            wanted = organisation_group(self.organisation_id) if self.organisation_id else None
            stale = [g for g in current if g != wanted]
            if stale:
                self.groups.remove(*stale)
            if wanted is not None and wanted not in current:
                self.groups.add(wanted)
        finally:
            _syncing.reset(token)


ORGANISATION_GROUP_PREFIX = "org:"


def organisation_group(organisation_id: int) -> Group:
    """The group standing for one organisation's staff in object grants."""
    return Group.objects.get_or_create(name=f"{ORGANISATION_GROUP_PREFIX}{organisation_id}")[0]


class ApprovalRequest(models.Model):
    """A change to another person's account that takes effect only when a second person
    approves it (accounts.approvals holds the policy and the services)."""

    class Kind(models.TextChoices):
        ROLE = "role", _("役割の付与")
        PASSWORD_RESET = "password_reset", _("パスワードの再設定")
        FACTOR_RESET = "factor_reset", _("二要素認証のリセット")

    class Approver(models.TextChoices):
        SUPERVISOR = "supervisor", _("対象職員の所属組織のスーパーバイザー")
        SECOND_ADMIN = "second_admin", _("依頼者以外のシステム管理者")

    class Status(models.TextChoices):
        PENDING = "pending", _("承認待ち")
        APPROVED = "approved", _("承認済み")
        REFUSED = "refused", _("却下")
        EXPIRED = "expired", _("期限切れ")

    kind = models.CharField(_("種類"), max_length=20, choices=Kind.choices)
    target = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="approval_requests", verbose_name=_("対象")
    )
    role = models.CharField(_("役割"), max_length=32, choices=Role.choices, blank=True)
    # The target's organisation when asked: a request made for one organisation is not
    # approved after the person has moved to another.
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("対象の所属組織"),
    )
    approver = models.CharField(_("承認者"), max_length=20, choices=Approver.choices)
    requested_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("依頼者")
    )
    requested_at = models.DateTimeField(_("依頼日時"))
    expires_at = models.DateTimeField(_("期限"))
    status = models.CharField(
        _("状態"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    decided_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("判断者"),
    )
    decided_at = models.DateTimeField(_("判断日時"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("承認依頼")
        verbose_name_plural = _("承認依頼")
        default_permissions = ()
        constraints = [
            models.CheckConstraint(
                condition=~Q(requested_by=F("target")), name="approval_not_for_oneself"
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True)
                | (~Q(decided_by=F("requested_by")) & ~Q(decided_by=F("target"))),
                name="approval_by_a_second_person",
            ),
            models.CheckConstraint(
                condition=Q(kind="role", role__gt="") | (~Q(kind="role") & Q(role="")),
                name="approval_role_only_for_role_requests",
            ),
            models.UniqueConstraint(
                fields=["target", "kind", "role"],
                condition=Q(status="pending"),
                name="approval_one_pending_per_change",
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        label = self.get_role_display() if self.kind == self.Kind.ROLE else ""
        return f"{self.get_kind_display()} {label} {self.target}".replace("  ", " ")

    @property
    def state_label(self) -> str:
        """The status as it stands now: a pending request past its time is expired."""
        if self.status == self.Status.PENDING and self.expires_at <= timezone.now():
            return str(self.Status.EXPIRED.label)
        return str(self.get_status_display())


# --- invariants below every caller (see the module docstring) ---

# Set while the organisation group is being synchronised, so that its own group changes
# are not examined again.
_syncing: contextvars.ContextVar[bool] = contextvars.ContextVar("org_group_sync", default=False)
# (user id, group id) pairs accounts.approvals may add while applying an approved request.
_approved_grants: contextvars.ContextVar[frozenset[tuple[int, int]]] = contextvars.ContextVar(
    "approved_role_grants", default=frozenset()
)
_WATCHED_FIELDS = ("organisation_id", "is_superuser", "is_staff", "is_active")


@contextlib.contextmanager
def approved_role_grant(user: User, group: Group) -> Iterator[None]:
    """Let `group` be added to `user` in this block: for accounts.approvals only, after
    the approval was checked."""
    token = _approved_grants.set(_approved_grants.get() | {(user.pk, group.pk)})
    try:
        yield
    finally:
        _approved_grants.reset(token)


def _request_actor():
    """The signed-in user of the current request, or None outside a request."""
    current = audit_context.current()
    return current.user if current is not None else None


def _guard_own_and_superuser_fields(user: User, update_fields) -> None:
    actor = _request_actor()
    if actor is None:
        return
    if user.pk is None:
        if user.is_superuser:
            raise PermissionDenied("superuser status is not given in a request")
        return
    watched = [
        f
        for f in _WATCHED_FIELDS
        if update_fields is None or f in update_fields or f.removesuffix("_id") in update_fields
    ]
    if not watched:
        return
    stored = User.objects.filter(pk=user.pk).values(*watched).first() or {}
    changed = {f for f in watched if f in stored and stored[f] != getattr(user, f)}
    if "is_superuser" in changed:
        raise PermissionDenied("superuser status is not changed in a request")
    if changed and actor.pk == user.pk:
        raise PermissionDenied("nobody changes their own organisation or flags")
    if "organisation_id" in changed and user.holds_approval_role():
        raise PermissionDenied("the organisation of a user with an approval role is fixed")


def _role_groups(pks) -> list[Group]:
    return list(Group.objects.filter(pk__in=pks, name__in=Role.values))


def _check_role_change(action: str, user_pks, groups: list[Group]) -> None:
    actor = _request_actor()
    if actor is None or not groups:
        return
    if actor.pk in user_pks:
        raise PermissionDenied("nobody changes their own roles")
    if action != "pre_add":
        return
    approved = _approved_grants.get()
    for group in groups:
        if group.name in APPROVAL_ROLES and any((u, group.pk) not in approved for u in user_pks):
            raise PermissionDenied("this role needs an approved request (accounts.approvals)")


def _users_groups_changed(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
    if _syncing.get():
        return
    if action in ("pre_add", "pre_remove", "pre_clear"):
        if reverse:  # group.user_set.<action>(users)
            if action == "pre_clear":
                pk_set = instance._cleared_user_pks = set(
                    instance.user_set.values_list("pk", flat=True)
                )
            if instance.name in Role.values:
                _check_role_change(action, set(pk_set), [instance])
        else:
            pks = pk_set if pk_set is not None else instance.groups.values_list("pk", flat=True)
            _check_role_change(action, {instance.pk}, _role_groups(pks))
        return
    # post_add, post_remove, post_clear: put every affected user back in exactly the
    # group of their organisation.
    if reverse:
        if not instance.name.startswith(ORGANISATION_GROUP_PREFIX):
            return
        user_pks = pk_set if pk_set is not None else getattr(instance, "_cleared_user_pks", ())
        for user in User.objects.filter(pk__in=user_pks):
            user._join_organisation_group()
    else:
        instance._join_organisation_group()


def _raw_permissions_changed(sender, instance, action, **kwargs) -> None:
    """Roles are fixed bundles made by migrations; no request edits a permission set."""
    if action.startswith("pre_") and _request_actor() is not None:
        raise PermissionDenied("raw permissions are not edited in a request")


m2m_changed.connect(
    _users_groups_changed, sender=User.groups.through, dispatch_uid="accounts_user_groups"
)
m2m_changed.connect(
    _raw_permissions_changed,
    sender=User.user_permissions.through,
    dispatch_uid="accounts_user_permissions",
)
m2m_changed.connect(
    _raw_permissions_changed,
    sender=Group.permissions.through,
    dispatch_uid="accounts_group_permissions",
)
