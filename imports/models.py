"""Import batches, saved column mappings, legacy case numbers and uploads between steps."""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.fields import EncryptedTextField
from casework.models import DataKey, EncryptedRecord

from .sheets import Sheet

# Uploads left between steps (abandoned in a browser) are removed after this long.
PENDING_LIFETIME = datetime.timedelta(hours=24)


class ImportKind(models.TextChoices):
    CONTACTS = "contacts", _("相談記録")
    CASES = "cases", _("ケース（当事者情報を含む）")


class ImportBatch(models.Model):
    """One import of one file: what was written, by whom, and the file's hash, so that
    importing the same bytes again is noticed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("組織"),
    )
    kind = models.CharField(_("種類"), max_length=16, choices=ImportKind.choices)
    file_name = models.CharField(_("ファイル名"), max_length=255)
    file_sha256 = models.CharField(_("SHA-256"), max_length=64)
    rows = models.PositiveIntegerField(_("行数"))
    cases_created = models.PositiveIntegerField(_("作成したケース"), default=0)
    clients_created = models.PositiveIntegerField(_("作成した当事者"), default=0)
    contacts_created = models.PositiveIntegerField(_("作成した相談記録"), default=0)
    forced = models.BooleanField(_("重複を承知で取り込み"), default=False)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("取り込んだ職員"),
    )
    imported_at = models.DateTimeField(_("取り込み日時"), default=timezone.now)

    class Meta:
        verbose_name = _("取り込み")
        verbose_name_plural = _("取り込み")
        ordering = ["-imported_at"]
        permissions = [("run_import", _("表計算ファイルから記録を取り込める"))]
        indexes = [models.Index(fields=["organisation", "kind", "file_sha256"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.imported_at:%Y-%m-%d %H:%M}"


class ImportMapping(models.Model):
    """The last column mapping an organisation used for a kind: {source header: target}."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("種類"), max_length=16, choices=ImportKind.choices)
    columns = models.JSONField(_("列の対応"), default=dict)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("列の対応")
        verbose_name_plural = _("列の対応")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "kind"], name="importmapping_one_per_org_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.kind}"


class LegacyReference(models.Model):
    """A case number from the spreadsheet a case was imported from (管理番号), so that a
    later import of contacts can name the case the way the old records did."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    reference = models.CharField(_("旧管理番号"), max_length=64)
    case = models.ForeignKey(
        "casework.Case", on_delete=models.CASCADE, related_name="+", verbose_name=_("ケース")
    )
    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="references")

    class Meta:
        verbose_name = _("旧管理番号")
        verbose_name_plural = _("旧管理番号")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "reference"], name="legacyreference_unique_per_org"
            )
        ]

    def __str__(self) -> str:
        return self.reference


class PendingUploadQuerySet(models.QuerySet):
    def stale(self, now: datetime.datetime | None = None) -> PendingUploadQuerySet:
        return self.filter(created_at__lt=(now or timezone.now()) - PENDING_LIFETIME)


class PendingUpload(EncryptedRecord):
    """An uploaded file waiting between the mapping step and the import, as it was read at
    the upload (`sheets.Sheet`), so that no later step reads the file again. Encrypted
    under a data key of its own; discarding it destroys the key, so no copy stays
    readable. The file's bytes are not kept, only their hash."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("種類"), max_length=16, choices=ImportKind.choices)
    file_name = EncryptedTextField(_("ファイル名"))
    parsed = EncryptedTextField(_("読み取った内容"))  # sheets.Sheet.to_json()
    file_sha256 = models.CharField(max_length=64)
    columns = models.JSONField(default=dict)  # the mapping chosen for this upload
    created_at = models.DateTimeField(default=timezone.now)

    objects = PendingUploadQuerySet.as_manager()

    class Meta:
        verbose_name = _("取り込み待ちのファイル")
        verbose_name_plural = _("取り込み待ちのファイル")

    def __str__(self) -> str:
        return str(self.id)

    @classmethod
    def store(cls, owner, *, kind: str, file_name: str, sheet: Sheet, sha256: str) -> PendingUpload:
        upload = cls(
            owner=owner,
            organisation_id=owner.organisation_id,
            kind=kind,
            file_name=file_name,
            parsed=sheet.to_json(),
            file_sha256=sha256,
        )
        upload.save()
        return upload

    def sheet(self) -> Sheet:
        return Sheet.from_json(self.parsed)

    @transaction.atomic
    def discard(self) -> None:
        key = DataKey.objects.get(pk=self.data_key_id)
        self.delete()
        key.destroy()
        key.delete()
