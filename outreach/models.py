"""Outreach: home visits and accompaniment with a safety check-in; group programmes.

A visit is planned first; when it is done it logs its `casework.Contact` (channel home
visit or accompaniment), so contact counts stay one pass over one table and a planned
visit counts nowhere. Programme attendance is counts only, by participant type and
residence, never names.
"""

from __future__ import annotations

import datetime
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.scoping import ScopedManager, ScopedModel
from audit.history import HistoricalRecords
from casework import access
from casework.fields import EncryptedTextField
from casework.models import Case, Channel, EncryptedRecord


class VisitManager(ScopedManager["Visit"]):
    def visible_to(self, user: User) -> models.QuerySet[Visit]:
        """Visits of the cases `user` may read; on a case reached only by transfer
        read-back, only those the user's organisation made (casework.access)."""
        return self._scope_base().filter(_visible(user))

    def sent_out_by(self, user: User) -> models.QuerySet[Visit]:
        """Visits `user`'s organisation sent its workers on, whatever the case's
        organisation now: the safety list of its supervisors."""
        if user.organisation_id is None:
            return self.none()
        return self._scope_base().filter(organisation_id=user.organisation_id)

    def checkable_by(self, user: User) -> models.QuerySet[Visit]:
        """Visits `user` may check in for: visible ones, and always those they went on or
        that their organisation made (a case may move while the worker is out)."""
        own = Q(workers=user) | Q(organisation_id=user.organisation_id)
        return self._scope_base().filter(_visible(user) | own).distinct()


def _visible(user: User) -> Q:
    return Q(case__in=Case.objects.visible_to(user)) & access.own_records_q(user)


def _organiser_id(user: User) -> int | None:
    return user.organisation_id if getattr(user, "is_authenticated", False) else None


class ProgrammeManager(ScopedManager["Programme"]):
    def visible_to(self, user: User) -> models.QuerySet[Programme]:
        """The programmes `user`'s organisation organises: only the organiser records
        sessions and attendance."""
        return self._scope_base().filter(organiser_id=_organiser_id(user))


class SessionManager(ScopedManager["Session"]):
    def visible_to(self, user: User) -> models.QuerySet[Session]:
        """Sessions of the programmes `user`'s organisation organises."""
        return self._scope_base().filter(programme__organiser_id=_organiser_id(user))


class AttendanceManager(ScopedManager["Attendance"]):
    def visible_to(self, user: User) -> models.QuerySet[Attendance]:
        """Attendance counts of the sessions `user`'s organisation held."""
        return self._scope_base().filter(session__programme__organiser_id=_organiser_id(user))


class Visit(ScopedModel, EncryptedRecord):
    class Kind(models.TextChoices):
        HOME_VISIT = "home_visit", _("面談・訪問")
        ACCOMPANIMENT = "accompaniment", _("同行支援")

    class Destination(models.TextChoices):
        HOME = "home", _("自宅")
        HOSPITAL = "hospital", _("医療機関")
        HELLO_WORK = "hello_work", _("ハローワーク・就労支援機関")
        SCHOOL = "school", _("学校")
        MUNICIPAL_OFFICE = "municipal_office", _("役所・役場")
        IBASHO = "ibasho", _("居場所")
        OTHER = "other", _("その他")

    class Status(models.TextChoices):
        PLANNED = "planned", _("予定")
        IN_PROGRESS = "in_progress", _("訪問中")
        DONE = "done", _("実施済み")
        CANCELLED = "cancelled", _("中止")

    class Outcome(models.TextChoices):
        MET_PERSON = "met_person", _("本人と会えた")
        FAMILY_ONLY = "family_only", _("家族のみ")
        NO_ANSWER = "no_answer", _("不在・応答なし")
        REFUSED = "refused", _("拒否")

    KIND_CHANNEL: ClassVar[dict[str, Channel]] = {
        Kind.HOME_VISIT: Channel.HOME_VISIT,
        Kind.ACCOMPANIMENT: Channel.ACCOMPANIMENT,
    }

    case = models.ForeignKey(
        "casework.Case", on_delete=models.PROTECT, related_name="visits", verbose_name=_("ケース")
    )
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("組織")
    )
    kind = models.CharField(_("種別"), max_length=16, choices=Kind.choices, default=Kind.HOME_VISIT)
    destination = models.CharField(
        _("行き先"), max_length=20, choices=Destination.choices, default=Destination.HOME
    )
    # What the visit is for, in the worker's words: may name people and places (a
    # clinic, a school), so encrypted under the case's key like the notes.
    purpose = EncryptedTextField(_("目的"))
    planned_start = models.DateTimeField(_("予定日時"))
    workers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="visits", verbose_name=_("訪問者")
    )
    status = models.CharField(
        _("状態"), max_length=16, choices=Status.choices, default=Status.PLANNED
    )
    started_at = models.DateTimeField(_("開始日時"), null=True, blank=True)
    checkin_due_at = models.DateTimeField(_("帰着連絡の期限"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("帰着連絡"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    overdue_reported_at = models.DateTimeField(null=True, blank=True, editable=False)
    outcome = models.CharField(_("結果"), max_length=16, choices=Outcome.choices, blank=True)
    travel_minutes = models.PositiveSmallIntegerField(_("移動時間（分）"), default=0)
    notes = EncryptedTextField(_("訪問記録"))
    contact = models.OneToOneField(
        "casework.Contact",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="visit",
        editable=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = VisitManager()

    history = HistoricalRecords()

    class Meta:
        ordering = ["planned_start"]
        verbose_name = _("訪問・同行支援")
        verbose_name_plural = _("訪問・同行支援")
        indexes = [
            models.Index(fields=["organisation", "planned_start"]),
            models.Index(fields=["status", "checkin_due_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="done") | Q(contact__isnull=False),
                name="visit_done_has_contact",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.planned_start:%Y-%m-%d %H:%M} {self.get_kind_display()}"

    def is_overdue(self, now: datetime.datetime) -> bool:
        return (
            self.status == self.Status.IN_PROGRESS
            and self.checked_in_at is None
            and self.checkin_due_at is not None
            and self.checkin_due_at < now
        )


class Programme(ScopedModel):
    class Kind(models.TextChoices):
        FAMILY_CLASS = "family_class", _("家族教室")
        FAMILY_MEETING = "family_meeting", _("家族会")
        IBASHO = "ibasho", _("居場所")
        ONLINE_IBASHO = "online_ibasho", _("電子居場所（オンライン）")
        LECTURE = "lecture", _("講演会・フォーラム")
        SUPPORTER_TRAINING = "supporter_training", _("サポーター養成研修")

    kind = models.CharField(_("種別"), max_length=24, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=200)
    organiser = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="programmes",
        verbose_name=_("主催組織"),
    )
    host_municipality = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"kind": "municipality"},
        verbose_name=_("開催市町村"),
        help_text=_("居住地外の利用を数える基準になります。"),
    )
    region = models.ForeignKey(
        "accounts.Region", on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("圏域")
    )
    is_active = models.BooleanField(_("実施中"), default=True)

    objects = ProgrammeManager()

    history = HistoricalRecords()

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("グループ支援")
        verbose_name_plural = _("グループ支援")

    def __str__(self) -> str:
        return self.name


class Session(ScopedModel):
    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("グループ支援")
    )
    held_on = models.DateField(_("開催日"))
    theme = models.CharField(_("テーマ"), max_length=200, blank=True)
    venue = models.CharField(_("会場"), max_length=200, blank=True)
    online = models.BooleanField(_("オンライン"), default=False)
    cases = models.ManyToManyField(
        "casework.Case",
        blank=True,
        related_name="programme_sessions",
        verbose_name=_("参加したケース"),
    )

    objects = SessionManager()

    history = HistoricalRecords()

    class Meta:
        ordering = ["-held_on"]
        verbose_name = _("開催回")
        verbose_name_plural = _("開催回")
        indexes = [models.Index(fields=["held_on"])]

    def __str__(self) -> str:
        return f"{self.programme} {self.held_on}"


class ParticipantType(models.TextChoices):
    SELF = "self", _("本人")
    FAMILY = "family", _("家族")
    SUPPORTER = "supporter", _("支援者")
    OTHER = "other", _("その他")


class Attendance(ScopedModel):
    """How many attended one session, of one participant type, from one residence."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendance")
    participant_type = models.CharField(
        _("参加者の区分"), max_length=16, choices=ParticipantType.choices
    )
    residence = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"kind": "municipality"},
        verbose_name=_("居住市町村"),
    )
    count = models.PositiveIntegerField(_("人数"))

    objects = AttendanceManager()

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("参加者数")
        verbose_name_plural = _("参加者数")
        # One row per (session, type, residence): the service replaces a session's whole
        # grid at once (a unique constraint cannot treat "residence unknown" as one value
        # on SQLite).
        indexes = [models.Index(fields=["session", "participant_type"])]

    def __str__(self) -> str:
        return f"{self.session}: {self.participant_type} {self.count}"
