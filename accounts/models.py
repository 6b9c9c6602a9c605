"""Organisations, regions and users."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.history import HistoricalRecords

from .roles import Role


def local_government_code_check_digit(five_digits: str) -> str:
    """Check digit of a 全国地方公共団体コード (JIS X 0402 style, weights 6..2, mod 11)."""
    total = sum(int(d) * w for d, w in zip(five_digits, (6, 5, 4, 3, 2), strict=True))
    # The ones digit of 11 - (total mod 11): a remainder of 0 gives 1, of 1 gives 0.
    return str((11 - total % 11) % 10)


def validate_local_government_code(value: str) -> None:
    if len(value) != 6 or not value.isdigit():
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

    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta(AbstractUser.Meta):
        verbose_name = _("職員")
        verbose_name_plural = _("職員")
        permissions = [
            ("view_statistics", _("統計（集計値）を閲覧できる")),
            ("unlock_user", _("ログインのロックを解除できる")),
            ("requires_two_factor", _("2段階認証が必須")),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def roles(self) -> list[Role]:
        names = {g.name for g in self.groups.all()}
        return [role for role in Role if role.value in names]

    def has_role(self, role: Role) -> bool:
        return self.groups.filter(name=role.value).exists()

    def save(self, *args: object, **kwargs: object) -> None:
        super().save(*args, **kwargs)
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "organisation" in update_fields:
            self._join_organisation_group()

    def _join_organisation_group(self) -> None:
        """Invariant: a user is in exactly the group of their organisation, so that object
        grants made to an organisation (an accepted referral) reach its staff."""
        current = [g for g in self.groups.filter(name__startswith=ORGANISATION_GROUP_PREFIX)]
        wanted = organisation_group(self.organisation_id) if self.organisation_id else None
        stale = [g for g in current if g != wanted]
        if stale:
            self.groups.remove(*stale)
        if wanted is not None and wanted not in current:
            self.groups.add(wanted)


ORGANISATION_GROUP_PREFIX = "org:"


def organisation_group(organisation_id: int) -> Group:
    """The group standing for one organisation's staff in object grants."""
    return Group.objects.get_or_create(name=f"{ORGANISATION_GROUP_PREFIX}{organisation_id}")[0]
