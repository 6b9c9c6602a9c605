"""Referrals between organisations, with consent scope, and transfers (移管) of cases."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from accounts.models import User
from accounts.scoping import ScopedManager, ScopedModel
from audit.history import HistoricalRecords
from casework.fields import EncryptedTextField
from casework.models import EncryptedRecord


def _organisation_id(user: User) -> int | None:
    return user.organisation_id if getattr(user, "is_authenticated", False) else None


class ReferralManager(ScopedManager["Referral"]):
    def visible_to(self, user: User) -> models.QuerySet[Referral]:
        """The referrals of `user`'s organisation, either side: those it made (drafts
        included), and those sent to it (drafts stay with the sender)."""
        return self.sent_by(user) | self.received_by(user)

    def sent_by(self, user: User) -> models.QuerySet[Referral]:
        """The referrals `user`'s organisation made (送信済み・下書き)."""
        return self._scope_base().filter(from_organisation_id=_organisation_id(user))

    def received_by(self, user: User) -> models.QuerySet[Referral]:
        """The referrals sent to `user`'s organisation (受信箱); never a draft."""
        return (
            self._scope_base()
            .filter(to_organisation_id=_organisation_id(user))
            .exclude(status=Referral.Status.DRAFT)
        )


class TransferManager(ScopedManager["Transfer"]):
    def visible_to(self, user: User) -> models.QuerySet[Transfer]:
        """The transfers of `user`'s organisation, from it or to it."""
        own = _organisation_id(user)
        return self._scope_base().filter(Q(from_organisation_id=own) | Q(to_organisation_id=own))


class Referral(ScopedModel, EncryptedRecord):
    """A case passed to another organisation. The receiving side sees, while its grant
    lasts, exactly the parts the person consented to share (`share_*`)."""

    class Kind(models.TextChoices):
        RESIDENCE_MUNICIPALITY = "residence", _("居住地の市町村へ")
        CROSS_MUNICIPALITY = "cross_municipality", _("居住地外の利用")
        MEDICAL = "medical", _("医療機関へ")
        EMPLOYMENT = "employment", _("就労支援へ")
        IBASHO = "ibasho", _("居場所へ")
        EDUCATION = "education", _("教育機関へ")
        OTHER = "other", _("その他")

    class Status(models.TextChoices):
        DRAFT = "draft", _("下書き")
        SENT = "sent", _("送付済み")
        ACCEPTED = "accepted", _("受理")
        DECLINED = "declined", _("辞退")
        COMPLETED = "completed", _("完了")
        WITHDRAWN = "withdrawn", _("取り下げ")

    class ConsentMethod(models.TextChoices):
        WRITTEN = "written", _("書面")
        VERBAL = "verbal", _("口頭（記録あり）")

    # The scopes a person can consent to, in the order the receiving page shows them.
    SCOPES = ("share_basic_profile", "share_summary", "share_contacts", "share_meeting_decisions")

    case = models.ForeignKey(
        "casework.Case",
        on_delete=models.PROTECT,
        related_name="referrals",
        verbose_name=_("ケース"),
    )
    from_organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="referrals_sent",
        verbose_name=_("紹介元"),
    )
    to_organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="referrals_received",
        verbose_name=_("紹介先"),
    )
    kind = models.CharField(_("種別"), max_length=24, choices=Kind.choices)
    purpose = EncryptedTextField(_("紹介の目的・経過"))
    status = models.CharField(
        _("状態"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    consent_given = models.BooleanField(_("本人等の同意"), default=False)
    consent_on = models.DateField(_("同意日"), null=True, blank=True)
    consent_method = models.CharField(
        _("同意の方法"), max_length=16, choices=ConsentMethod.choices, blank=True
    )
    consent_withdrawn_on = models.DateField(_("同意撤回日"), null=True, blank=True)
    share_basic_profile = models.BooleanField(_("基本情報（氏名・連絡先等）"), default=False)
    share_summary = models.BooleanField(_("紹介の目的・ケース概要"), default=False)
    share_contacts = models.BooleanField(_("相談の経過"), default=False)
    share_meeting_decisions = models.BooleanField(_("会議での決定事項"), default=False)
    response_note = EncryptedTextField(_("受理・辞退の理由"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("作成者"),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    responded_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ReferralManager()

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("紹介")
        verbose_name_plural = _("紹介")
        ordering = ["-created_at"]
        permissions = [("view_shared_case", _("紹介されたケースの共有範囲を閲覧できる"))]
        indexes = [
            models.Index(fields=["to_organisation", "status"]),
            models.Index(fields=["from_organisation", "status"]),
            models.Index(fields=["kind", "sent_at"]),
        ]
        constraints = [
            # Without consent a referral carries non-identifying information only.
            models.CheckConstraint(
                condition=Q(consent_given=True)
                | Q(
                    share_basic_profile=False,
                    share_summary=False,
                    share_contacts=False,
                    share_meeting_decisions=False,
                ),
                name="referral_shares_only_with_consent",
            ),
            models.CheckConstraint(
                condition=~Q(from_organisation=models.F("to_organisation")),
                name="referral_between_two_organisations",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case} → {self.to_organisation}"

    def clean(self) -> None:
        if not self.consent_given and any(getattr(self, scope) for scope in self.SCOPES):
            raise ValidationError(
                _("同意がない紹介では、個人を特定できない情報しか共有できません。")
            )
        if self.consent_given and (self.consent_on is None or not self.consent_method):
            raise ValidationError(_("同意日と同意の方法を入力してください。"))

    @property
    def shared_scopes(self) -> list[str]:
        return [scope for scope in self.SCOPES if getattr(self, scope)]


class ReferralUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Referral, on_delete=models.CASCADE)


class ReferralGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Referral, on_delete=models.CASCADE)


class ReferralTransition(models.Model):
    """Who moved a referral from one state to the next, and when."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="transitions")
    from_status = models.CharField(max_length=16, choices=Referral.Status.choices)
    to_status = models.CharField(max_length=16, choices=Referral.Status.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("紹介の状態変更")
        verbose_name_plural = _("紹介の状態変更")

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class Transfer(ScopedModel):
    """移管: the case moved to another organisation. The old organisation keeps read access
    to the records it wrote until a supervisor ends it."""

    case = models.ForeignKey("casework.Case", on_delete=models.PROTECT, related_name="transfers")
    from_organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("移管元"),
    )
    to_organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("移管先"),
    )
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    access_ended_at = models.DateTimeField(null=True, blank=True)
    access_ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = TransferManager()

    history = HistoricalRecords()

    class Meta:
        ordering = ["-at"]
        verbose_name = _("移管")
        verbose_name_plural = _("移管")

    def __str__(self) -> str:
        return f"{self.case}: {self.from_organisation} → {self.to_organisation}"
