"""Meetings: monthly MDT meetings, case conferences and network meetings.

An agenda item puts a case in front of a meeting; while its review is open the MDT
members who attend hold an object grant on the case. Question, discussion and decisions
are encrypted under the case's data key, like everything else written about the case.
"""

from __future__ import annotations

from typing import TypeVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.scoping import ScopedManager, ScopedModel
from audit.history import HistoricalRecords
from casework.access import Capability
from casework.fields import EncryptedTextField
from casework.models import Case, EncryptedRecord


def _organisation_id(user: User) -> int | None:
    return user.organisation_id if getattr(user, "is_authenticated", False) else None


class MeetingManager(ScopedManager["Meeting"]):
    def visible_to(self, user: User) -> models.QuerySet[Meeting]:
        """The meetings `user` may open, all hosted by their own organisation: every one
        for the staff who run meetings (meetings.change_meeting), only those they attend
        for the others (an MDT member). Another organisation's meeting never, attended or
        not (someone who moved keeps no view of their old organisation's meetings)."""
        if (
            _organisation_id(user) is None
            or not user.is_active
            or not user.has_perm("meetings.view_meeting")
        ):
            return self.none()
        own = self._scope_base().filter(host_id=user.organisation_id)
        if user.has_perm("meetings.change_meeting"):
            return own
        return own.filter(attendees=user)


_Row = TypeVar("_Row", bound=models.Model)


class _MinutesManager(ScopedManager[_Row]):
    """Agenda items and actions: their text is minutes, which follow the case."""

    host_path: str  # the lookup from the row to its meeting's host

    def visible_to(
        self, user: User, cases: models.QuerySet[Case] | None = None
    ) -> models.QuerySet[_Row]:
        """Rows on the cases whose minutes `user` may read (Capability.MINUTES); a caller
        that already holds those cases passes them (`cases`) to save their query."""
        if cases is None:
            cases = Case.objects.visible_to(user, Capability.MINUTES)
        return self._scope_base().filter(case__in=cases)

    def at_own_meetings(self, user: User) -> models.QuerySet[_Row]:
        """Rows of the meetings `user`'s organisation hosts, before the case's policy:
        meetings.selectors applies it on top (404 when the case is out of reach, 403
        when it is reached without the capability)."""
        return self._scope_base().filter(**{self.host_path: _organisation_id(user)})


class AgendaItemManager(_MinutesManager["AgendaItem"]):
    host_path = "meeting__host_id"


class ActionItemManager(_MinutesManager["ActionItem"]):
    host_path = "agenda_item__meeting__host_id"


class Meeting(ScopedModel):
    class Kind(models.TextChoices):
        MDT_MONTHLY = "mdt_monthly", _("多職種連携チーム会議（月例）")
        CASE_CONFERENCE = "case_conference", _("個別ケース会議")
        NETWORK = "network", _("支援ネットワーク会議")

    class Status(models.TextChoices):
        PLANNED = "planned", _("予定")
        HELD = "held", _("開催済み")

    class LegalBasis(models.TextChoices):
        # 支援会議: members bound by a statutory duty of confidentiality; a case may be
        # discussed before the person consents.
        SUPPORT_MEETING = "support_meeting", _("支援会議（守秘義務あり・同意前も可）")
        CONSENT_REQUIRED = "consent_required", _("本人同意が必要な会議（重層的支援会議等）")
        INTERNAL = "internal", _("組織内の会議")

    kind = models.CharField(_("種別"), max_length=20, choices=Kind.choices)
    host = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="meetings",
        verbose_name=_("主催組織"),
    )
    held_at = models.DateTimeField(_("日時"))
    place = models.CharField(_("場所"), max_length=200, blank=True)
    online = models.BooleanField(_("オンライン"), default=False)
    legal_basis = models.CharField(
        _("開催の根拠"), max_length=20, choices=LegalBasis.choices, default=LegalBasis.INTERNAL
    )
    status = models.CharField(
        _("状態"), max_length=16, choices=Status.choices, default=Status.PLANNED
    )
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="meetings", verbose_name=_("出席者")
    )
    # A case conference about residents not in the system: how many were discussed, and
    # nothing else about them (services.record_unregistered_cases).
    unregistered_cases_discussed = models.PositiveSmallIntegerField(
        _("登録外の住民の検討件数"), default=0
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = MeetingManager()

    history = HistoricalRecords(m2m_fields=[attendees])

    class Meta:
        ordering = ["-held_at"]
        verbose_name = _("会議")
        verbose_name_plural = _("会議")
        indexes = [models.Index(fields=["host", "kind", "held_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {timezone.localtime(self.held_at):%Y-%m-%d}"


class ExternalAttendance(models.Model):
    """People from outside the system: counted by organisation type and profession only."""

    class OrganisationType(models.TextChoices):
        MUNICIPALITY = "municipality", _("市町村")
        MEDICAL = "medical", _("医療機関")
        EMPLOYMENT = "employment", _("就労支援機関")
        EDUCATION = "education", _("教育機関")
        WELFARE = "welfare", _("福祉関係機関")
        NPO = "npo", _("NPO・家族会")
        OTHER = "other", _("その他")

    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="external_attendance"
    )
    organisation_type = models.CharField(
        _("所属の種別"), max_length=16, choices=OrganisationType.choices
    )
    profession = models.CharField(_("職種"), max_length=100, blank=True)
    count = models.PositiveSmallIntegerField(_("人数"), default=1)

    class Meta:
        verbose_name = _("外部出席者")
        verbose_name_plural = _("外部出席者")

    def __str__(self) -> str:
        return f"{self.get_organisation_type_display()} {self.count}"


class AgendaItem(ScopedModel, EncryptedRecord):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="items")
    case = models.ForeignKey(
        "casework.Case",
        on_delete=models.PROTECT,
        related_name="agenda_items",
        verbose_name=_("ケース"),
    )
    reason = models.CharField(_("選定理由"), max_length=200, blank=True)
    presenter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("報告者"),
    )
    question = EncryptedTextField(_("検討したいこと"))
    discussion = EncryptedTextField(_("検討内容"))
    decisions = EncryptedTextField(_("決定事項"))
    next_review_on = models.DateField(_("次回見直し日"), null=True, blank=True)
    take_on_mdt = models.BooleanField(_("多職種連携チームで支援する"), default=False)
    review_closed_at = models.DateTimeField(_("検討終了"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = AgendaItemManager()

    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("議題")
        verbose_name_plural = _("議題")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "case"], name="agenda_one_item_per_case"),
        ]

    def __str__(self) -> str:
        return f"{self.meeting}: {self.case}"


class ActionItem(ScopedModel, EncryptedRecord):
    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="actions")
    case = models.ForeignKey("casework.Case", on_delete=models.PROTECT, related_name="actions")
    description = EncryptedTextField(_("対応内容"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="meeting_actions",
        verbose_name=_("担当者"),
    )
    due_on = models.DateField(_("期限"))
    done_at = models.DateTimeField(_("完了"), null=True, blank=True)

    objects = ActionItemManager()

    history = HistoricalRecords()

    class Meta:
        ordering = ["due_on"]
        verbose_name = _("対応事項")
        verbose_name_plural = _("対応事項")
        indexes = [models.Index(fields=["assignee", "done_at", "due_on"])]

    def __str__(self) -> str:
        return f"{self.case} {self.due_on}"
