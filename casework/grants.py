"""Ways into a case beyond its organisation: object grants (MDT agenda), break-glass
and transfer read-back (casework.access reads them; casework.services writes them)."""

from __future__ import annotations

import datetime
from typing import Self

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from .fields import EncryptedTextField
from .records import DataKey


class CaseUserObjectPermission(UserObjectPermissionBase):
    """Object grants on cases (MDT agenda, referral, share, break-glass): direct FK."""

    content_object = models.ForeignKey("casework.Case", on_delete=models.CASCADE)


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey("casework.Case", on_delete=models.CASCADE)


class ActiveGrantQuerySet(models.QuerySet):
    def active(self, now: datetime.datetime | None = None) -> Self:
        """Not ended and not expired."""
        return self.filter(ended_at__isnull=True, expires_at__gt=now or timezone.now())


class BreakGlassQuerySet(models.QuerySet):
    def active(self, now: datetime.datetime | None = None) -> Self:
        """Approved (or needing no approval), not expired, for an existing case."""
        now = now or timezone.now()
        return self.filter(case__isnull=False, approved_at__isnull=False, expires_at__gt=now)

    def pending(self, now: datetime.datetime | None = None) -> Self:
        """Waiting for the case organisation's supervisor, not yet stale."""
        now = now or timezone.now()
        return self.filter(
            case__isnull=False,
            approved_at__isnull=True,
            refused_at__isnull=True,
            requested_at__gt=now - datetime.timedelta(hours=BREAK_GLASS_REQUEST_HOURS),
        )


# A request across organisations that no supervisor answered within this time lapses.
BREAK_GLASS_REQUEST_HOURS = 24


class BreakGlass(models.Model):
    """Emergency access (緊急アクセス) to a case outside one's normal access, on a reason
    (a category, and free text encrypted under the case's data key), read-only, for
    BREAK_GLASS_MINUTES, audited, and queued for a supervisor's review. Within one's own
    organisation it starts at once and the supervisors are told; across organisations it
    starts only when a supervisor of the case's organisation approves. A request for a code
    that names no case one may ask for is kept too (without a case and without its text),
    so that it looks the same to the requester. Policy: casework.services.break_glass."""

    class Category(models.TextChoices):
        DANGER = "danger", _("生命・身体への危険が疑われる")
        WORKER_ABSENT = "worker_absent", _("担当者不在中の緊急の相談・連絡")
        AGENCY_INQUIRY = "agency_inquiry", _("関係機関（警察・医療等）からの緊急の照会")
        OTHER = "other", _("その他の緊急の事情")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="break_glass",
        verbose_name=_("職員"),
    )
    case = models.ForeignKey(
        "casework.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="break_glass",
        verbose_name=_("ケース"),
    )
    requested_code = models.CharField(_("申請されたケースコード"), max_length=20, blank=True)
    category = models.CharField(
        _("理由の区分"), max_length=20, choices=Category.choices, default=Category.OTHER
    )
    # The case's data key: the reason is erased with the case (crypto-shredding).
    data_key = models.ForeignKey(
        DataKey, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason_text = EncryptedTextField(_("理由"))
    cross_organisation = models.BooleanField(_("他組織のケース"), default=False)
    requested_at = models.DateTimeField(_("申請日時"), default=timezone.now)
    approved_at = models.DateTimeField(_("開始"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("承認者"),
    )
    refused_at = models.DateTimeField(_("却下日時"), null=True, blank=True)
    expires_at = models.DateTimeField(_("終了"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("確認日時"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("確認者"),
    )
    # Encrypted like the reason: a supervisor's note may say why the case mattered.
    review_note = EncryptedTextField(_("確認メモ"))

    objects = BreakGlassQuerySet.as_manager()

    class Meta:
        verbose_name = _("緊急アクセス")
        verbose_name_plural = _("緊急アクセス")
        ordering = ["-requested_at"]
        permissions = [("break_glass", _("理由を記録して担当外のケースを緊急に閲覧できる"))]
        indexes = [
            models.Index(fields=["user", "expires_at"]),
            models.Index(fields=["user", "requested_at"], name="breakglass_user_requests"),
        ]

    def __str__(self) -> str:
        code = self.case.code if self.case is not None else self.requested_code
        return f"{self.user} → {code} {self.requested_at:%Y-%m-%d %H:%M}"

    @property
    def state_label(self) -> str:
        """What the requester sees. It never depends on whether the code named a case,
        so an unknown code and one waiting for approval read alike."""
        now = timezone.now()
        if self.approved_at is not None:
            return (
                str(_("閲覧可能")) if self.expires_at and self.expires_at > now else str(_("終了"))
            )
        if self.refused_at is not None:
            return str(_("却下"))
        if self.requested_at <= now - datetime.timedelta(hours=BREAK_GLASS_REQUEST_HOURS):
            return str(_("失効"))
        return str(_("承認待ち"))


class CaseReadBack(models.Model):
    """Transfer read-back: after a transfer (移管) the organisation the case came from may
    read the records it wrote, read-only, until `expires_at` or until a supervisor of
    either side ends it. Made and ended only by casework.services (called by referrals)."""

    case = models.ForeignKey(
        "casework.Case",
        on_delete=models.CASCADE,
        related_name="read_backs",
        verbose_name=_("ケース"),
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("移管元"),
    )
    granted_at = models.DateTimeField(_("開始"), default=timezone.now)
    expires_at = models.DateTimeField(_("期限"))
    ended_at = models.DateTimeField(_("終了日時"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("終了した職員"),
    )

    objects = ActiveGrantQuerySet.as_manager()

    class Meta:
        verbose_name = _("移管元による閲覧")
        verbose_name_plural = _("移管元による閲覧")
        indexes = [models.Index(fields=["organisation", "expires_at"], name="readback_org_expiry")]

    def __str__(self) -> str:
        return f"{self.organisation_id} ← {self.case_id} until {self.expires_at:%Y-%m-%d}"
