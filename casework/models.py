"""Clients, cases, contacts and milestones: the records of casework.

The data keys and the base classes of encrypted records are in `records`, the grants that
open a case beyond its organisation in `grants`; both are importable from here.
Every model here is scoped (accounts.scoping): request code reads it through
`Model.objects.visible_to(user, …)` (casework.managers, on casework.access).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import ScopedModel
from audit.history import HistoricalRecords

from . import crypto
from .fields import BlindIndexField, EncryptedDateField, EncryptedTextField
from .grants import (  # noqa: F401  (importable from casework.models)
    BREAK_GLASS_REQUEST_HOURS,
    BreakGlass,
    CaseGroupObjectPermission,
    CaseReadBack,
    CaseUserObjectPermission,
)
from .managers import CaseManager, ClientManager, ContactManager, MilestoneManager
from .periods import AgeBand
from .records import (  # noqa: F401  (importable from casework.models)
    CODE_ALPHABET,
    DataKey,
    EncryptedRecord,
    PseudonymousRecord,
    Versioned,
    new_code,
)

MINUTES_IN_A_DAY = 24 * 60
# Longest record texts, the same on every path in (screens, API, imports): the model's
# validators, which every service's full_clean runs, hold them.
SUMMARY_MAX = 4000
NOTE_MAX = 2000


class Gender(models.TextChoices):
    MALE = "male", _("男性")
    FEMALE = "female", _("女性")
    OTHER = "other", _("その他")
    UNKNOWN = "unknown", _("不明")


class Client(ScopedModel, PseudonymousRecord, Versioned):
    """The person (当事者). Identity is encrypted; lists and URLs show only `code`."""

    code_prefix = "P"
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="clients",
        verbose_name=_("登録組織"),
    )
    name = EncryptedTextField(_("氏名"))
    name_kana = EncryptedTextField(_("氏名（カナ）"))
    birth_date = EncryptedDateField(_("生年月日"))
    phone = EncryptedTextField(_("電話番号"))
    address = EncryptedTextField(_("住所"))
    notes = EncryptedTextField(_("備考"))
    kana_birth_index = BlindIndexField(sources=("name_kana", "birth_date"))
    phone_index = BlindIndexField(sources=("phone",), normalisers=(crypto.normalise_phone,))
    # Search (casework.search): the kana name, its family name and the birth date alone.
    kana_index = BlindIndexField(sources=("name_kana",), normalisers=(crypto.normalise_kana,))
    family_kana_index = BlindIndexField(sources=("name_kana",), normalisers=(crypto.family_kana,))
    birth_index = BlindIndexField(sources=("birth_date",))
    # Stable, non-identifying attributes kept in the clear for statistics.
    birth_year = models.PositiveSmallIntegerField(_("生年"), null=True, blank=True)
    gender = models.CharField(
        _("性別"), max_length=16, choices=Gender.choices, default=Gender.UNKNOWN
    )
    municipality = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resident_clients",
        limit_choices_to={"kind": "municipality"},
        verbose_name=_("居住市町村"),
        db_index=False,  # led by the index (municipality, id) below
    )
    household_8050 = models.BooleanField(_("8050世帯"), default=False)
    lives_alone = models.BooleanField(_("単身世帯"), default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ClientManager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("当事者")
        verbose_name_plural = _("当事者")
        permissions = [("reveal_identity", _("当事者の個人情報を表示できる"))]
        indexes = [
            # The case list's residence filter finds a town's clients from the index alone
            # (a client row is wide with ciphertexts; reading them cost 40 ms a count).
            models.Index(fields=["municipality", "id"], name="client_municipality"),
        ]

    @classmethod
    def blind_index_fields(cls) -> list[str]:
        """The names of every keyed index of the identity (cleared on erasure)."""
        return [f.name for f in cls._meta.fields if isinstance(f, BlindIndexField)]

    def save(self, *args: object, **kwargs: object) -> None:
        if isinstance(self.birth_date, datetime.date):  # not when erased
            self.birth_year = self.birth_date.year
        super().save(*args, **kwargs)


# A case never contacted counts as last contacted at the start of time. The case list's
# order and its "no contact for N days" filter then use one expression, and both are one
# range of one index. With a NULL instead, the filter would need `OR … IS NULL`, which no
# index answers. It also gives one order on every database: in a descending order,
# PostgreSQL puts NULLs first and SQLite puts them last.
NEVER_CONTACTED = datetime.datetime(1, 1, 1, tzinfo=datetime.UTC)


def last_contact_key() -> Coalesce:
    """A case's last contact as the case list orders and filters by it."""
    return Coalesce("last_contact_at", Value(NEVER_CONTACTED, output_field=models.DateTimeField()))


def without_contact_since(cutoff: datetime.datetime) -> Q:
    """Cases with no contact since `cutoff` that were already open on its day: the one
    test of "no contact for N days" that flags a case (the work queue, the meeting pack).
    A case opened after `cutoff` has not gone without contact that long, so a new case
    is left out until its first contact is due (opened N days ago)."""
    return Q(LessThan(last_contact_key(), cutoff), opened_on__lte=timezone.localtime(cutoff).date())


class Case(ScopedModel, PseudonymousRecord, Versioned):
    """A support episode at one organisation."""

    class Status(models.TextChoices):
        INTAKE = "intake", _("受付")
        ACTIVE = "active", _("支援中")
        MONITORING = "monitoring", _("見守り")
        CLOSED = "closed", _("終結")

    class WithdrawalBand(models.TextChoices):
        UNDER_6M = "u6m", _("6か月未満")
        UNDER_1Y = "6m_1y", _("6か月～1年未満")
        UNDER_3Y = "1y_3y", _("1年～3年未満")
        UNDER_5Y = "3y_5y", _("3年～5年未満")
        UNDER_10Y = "5y_10y", _("5年～10年未満")
        UNDER_20Y = "10y_20y", _("10年～20年未満")
        OVER_20Y = "20y_plus", _("20年以上")
        UNKNOWN = "unknown", _("不明")

    class ClosureReason(models.TextChoices):
        GOAL_REACHED = "goal_reached", _("目標達成")
        REFERRED = "referred", _("他機関へ移行")
        LOST_CONTACT = "lost_contact", _("連絡途絶")
        MOVED = "moved", _("転居")
        WISH = "wish", _("本人・家族の希望")
        DECEASED = "deceased", _("死亡")
        MERGED = "merged", _("重複ケースの統合")
        OTHER = "other", _("その他")

    code_prefix = "C"
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("担当組織"),
        db_index=False,  # every index in Meta starts with it
    )
    client = models.ForeignKey(
        Client,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("当事者"),
    )
    status = models.CharField(
        _("状態"), max_length=16, choices=Status.choices, default=Status.INTAKE
    )
    opened_on = models.DateField(_("受付日"), default=timezone.localdate)
    status_changed_on = models.DateField(_("状態変更日"), default=timezone.localdate)
    closed_on = models.DateField(_("終結日"), null=True, blank=True)
    closure_reason = models.CharField(
        _("終結理由"), max_length=16, choices=ClosureReason.choices, blank=True
    )
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_cases",
        editable=False,
        verbose_name=_("統合先ケース"),
    )
    withdrawal_band = models.CharField(
        _("ひきこもり期間"),
        max_length=16,
        choices=WithdrawalBand.choices,
        default=WithdrawalBand.UNKNOWN,
    )
    school_refusal_history = models.BooleanField(_("不登校経験"), default=False)
    suspected_mental_illness = models.BooleanField(_("精神疾患の疑い"), default=False)
    suspected_developmental_disability = models.BooleanField(_("発達障害の疑い"), default=False)
    employment_history = models.BooleanField(_("就労経験あり"), default=False)
    restricted = models.BooleanField(
        _("閲覧制限"),
        default=False,
        help_text=_("担当者とスーパーバイザーだけが閲覧できます。"),
    )
    mdt_supported = models.BooleanField(_("多職種連携チーム支援"), default=False)
    sharing_consent_on = models.DateField(
        _("関係機関との情報共有への同意日"),
        null=True,
        blank=True,
        help_text=_("本人同意が必要な会議で検討できるのは、同意が記録されたケースだけです。"),
    )
    summary = EncryptedTextField(_("概要"), validators=[MaxLengthValidator(SUMMARY_MAX)])
    lead_workers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="lead_cases", verbose_name=_("担当者")
    )
    last_contact_at = models.DateTimeField(_("最終相談日時"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = CaseManager()
    history = HistoricalRecords(m2m_fields=[lead_workers])

    class Meta:
        verbose_name = _("ケース")
        verbose_name_plural = _("ケース")
        permissions = [
            ("view_org_cases", _("自組織のケースを閲覧できる")),
            ("supervise_case", _("組織内の全ケース（閲覧制限を含む）を監督できる")),
            ("export_records", _("ケース一覧・相談記録を仮名のままファイルに書き出せる")),
            ("export_identity", _("目的を記録して個人情報を含む書き出しができる")),
        ]
        indexes = [
            # Counting the case list's status filter (and joining its residence filter)
            # from the index alone (PostgreSQL; elsewhere the key columns only): what
            # visibility asks of a case is its restriction and its id.
            models.Index(
                fields=["organisation", "status"],
                include=["restricted", "id", "client"],
                name="case_org_status",
            ),
            # The case list's order within an organisation, and across organisations: a
            # page of 50 is read in index order instead of sorting every visible case, and
            # "no contact for N days" is a range of it. The included columns let the list
            # count its visible cases with that filter from the index alone.
            models.Index(
                F("organisation"),
                last_contact_key().desc(),
                F("opened_on").desc(),
                include=["restricted", "id", "last_contact_at"],
                name="case_org_recent",
            ),
            models.Index(last_contact_key().desc(), F("opened_on").desc(), name="case_recent"),
            models.Index(fields=["organisation", "opened_on"]),
            # Counting the cases a counsellor may see (own organisation, not restricted
            # unless assigned) from the index alone.
            models.Index(fields=["organisation", "restricted", "id"], name="case_visibility"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_on__isnull=False),
                name="case_closed_has_date",
            ),
        ]


class Channel(models.TextChoices):
    PHONE = "phone", _("電話")
    CENTRE_VISIT = "centre_visit", _("来所")
    HOME_VISIT = "home_visit", _("訪問")
    EMAIL = "email", _("メール")
    ONLINE = "online", _("オンライン")
    ACCOMPANIMENT = "accompaniment", _("同行支援")


class Consulter(models.TextChoices):
    SELF = "self", _("本人")
    PARENT = "parent", _("親")
    SIBLING = "sibling", _("きょうだい")
    SPOUSE = "spouse", _("配偶者")
    OTHER_FAMILY = "other_family", _("その他の家族")
    AGENCY = "agency", _("関係機関")
    OTHER = "other", _("その他")


class Topic(models.TextChoices):
    DAILY_LIFE = "daily_life", _("生活リズム・日常生活")
    FAMILY = "family", _("家族関係")
    HEALTH = "health", _("心身の健康・医療")
    SCHOOL = "school", _("就学・不登校")
    WORK = "work", _("就労")
    MONEY = "money", _("経済・生活困窮")
    IBASHO = "ibasho", _("居場所・社会参加")
    VIOLENCE = "violence", _("暴力・緊急対応")
    OTHER = "other", _("その他")


class Contact(ScopedModel, EncryptedRecord, Versioned):
    """相談記録: one row per contact, whatever the channel, so every count is one pass.

    A contact with a case is encrypted under the case's data key; one without (an
    anonymous call) under its organisation's key for the fiscal year. The attribute
    snapshot lets anonymous contacts count in breakdowns by age band, gender and residence.
    """

    class Kind(models.TextChoices):
        FIRST = "first", _("新規")
        CONTINUING = "continuing", _("継続")

    occurred_at = models.DateTimeField(_("相談日時"), default=timezone.now)
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="contacts",
        verbose_name=_("受付組織"),
        db_index=False,  # indexes in Meta start with it
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="contacts",
        verbose_name=_("対応職員"),
        db_index=False,  # indexes in Meta start with it
    )
    case = models.ForeignKey(
        Case,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contacts",
        verbose_name=_("ケース"),
        db_index=False,  # an index in Meta starts with it
    )
    channel = models.CharField(
        _("相談方法"), max_length=16, choices=Channel.choices, default=Channel.PHONE
    )
    consulter = models.CharField(
        _("相談者"), max_length=16, choices=Consulter.choices, default=Consulter.SELF
    )
    kind = models.CharField(
        _("新規／継続"), max_length=16, choices=Kind.choices, default=Kind.CONTINUING
    )
    minutes = models.PositiveSmallIntegerField(
        _("対応時間（分）"), default=0, validators=[MaxValueValidator(MINUTES_IN_A_DAY)]
    )
    topics = models.JSONField(_("相談内容"), default=list, blank=True)
    referring_organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referred_contacts",
        verbose_name=_("相談元の機関"),
    )
    # Snapshot of non-identifying attributes at the time of the contact.
    age_band = models.CharField(
        _("年代"), max_length=8, choices=AgeBand.choices, default=AgeBand.UNKNOWN
    )
    gender = models.CharField(
        _("性別"), max_length=16, choices=Gender.choices, default=Gender.UNKNOWN
    )
    municipality = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resident_contacts",
        limit_choices_to={"kind": "municipality"},
        verbose_name=_("居住市町村"),
    )
    summary = EncryptedTextField(_("相談内容の記録"), validators=[MaxLengthValidator(SUMMARY_MAX)])
    follow_up = EncryptedTextField(_("今後の対応"), validators=[MaxLengthValidator(NOTE_MAX)])
    follow_up_due = models.DateField(_("対応予定日"), null=True, blank=True)
    follow_up_done = models.BooleanField(_("対応済み"), default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # The last correction (casework.services.correct_contact); the text before it stays
    # in the history.
    corrected_at = models.DateTimeField(_("訂正日時"), null=True, blank=True, editable=False)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("訂正者"),
    )
    correction_reason = EncryptedTextField(
        _("訂正の理由"), validators=[MaxLengthValidator(NOTE_MAX)]
    )

    objects = ContactManager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("相談記録")
        verbose_name_plural = _("相談記録")
        ordering = ["-occurred_at"]
        indexes = [
            # The statistics: an organisation's (or every) contact in a period, with the
            # columns the metrics filter and break down by, so that counting reads this
            # index alone (PostgreSQL; elsewhere the key columns only).
            models.Index(
                fields=["organisation", "occurred_at"],
                include=[
                    "case",
                    "channel",
                    "consulter",
                    "kind",
                    "age_band",
                    "gender",
                    "municipality",
                    "referring_organisation",
                ],
                name="contact_statistics",
            ),
            models.Index(fields=["case", "-occurred_at"]),
            models.Index(fields=["staff", "follow_up_done", "follow_up_due"]),
            # The dashboard's recent contacts of the signed-in worker.
            models.Index(fields=["staff", "-occurred_at"], name="contact_staff_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(minutes__lte=MINUTES_IN_A_DAY), name="contact_minutes_in_a_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.get_channel_display()}"

    def clean(self) -> None:
        errors = {}
        if self.occurred_at and timezone.localtime(self.occurred_at).date() > timezone.localdate():
            errors["occurred_at"] = _("相談日時に未来の日付は指定できません。")
        unknown = set(self.topics or []) - set(Topic.values)
        if unknown:
            errors["topics"] = _("相談内容の区分が正しくありません。")
        if errors:
            raise ValidationError(errors)


class Milestone(ScopedModel, EncryptedRecord):
    """A dated outcome on a case; outcome indicators count these."""

    class Kind(models.TextChoices):
        IBASHO = "ibasho", _("居場所につながった")
        INTERMEDIATE_WORK = "intermediate_work", _("中間的就労を開始")
        EMPLOYED = "employed", _("就労した")
        BACK_TO_SCHOOL = "back_to_school", _("復学・進学した")
        MEDICAL_CARE = "medical_care", _("医療につながった")
        WELFARE_SERVICE = "welfare_service", _("福祉サービスの利用を開始")
        LEFT_HOME = "left_home", _("外出できるようになった")
        OTHER = "other", _("その他")

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="milestones", verbose_name=_("ケース")
    )
    kind = models.CharField(_("到達した状態"), max_length=24, choices=Kind.choices)
    achieved_on = models.DateField(_("年月日"))
    note = EncryptedTextField(_("メモ"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("記録者"),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = MilestoneManager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("到達状況")
        verbose_name_plural = _("到達状況")
        ordering = ["-achieved_on"]
        indexes = [models.Index(fields=["kind", "achieved_on"])]

    def __str__(self) -> str:
        return f"{self.achieved_on} {self.get_kind_display()}"


class Draft(EncryptedRecord):
    """What someone is typing into a form, kept on the server as they type (casework.drafts).

    Encrypted like the record it will become: under its case's data key when the form
    belongs to a case (so erasing the case shreds the draft), else under the organisation's
    key of the year for records without a case. Only its author ever reads it back, into
    the same form, and only after that form's own access checks have passed.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The form's page (path and query), as its view was asked for it.
    path = models.CharField(max_length=300)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, null=True, related_name="+")
    payload = EncryptedTextField(_("下書き"))
    saved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("下書き")
        verbose_name_plural = _("下書き")
        constraints = [
            models.UniqueConstraint(fields=["user", "path"], name="draft_one_per_user_form")
        ]
        indexes = [models.Index(fields=["saved_at"], name="draft_saved_at")]

    def __str__(self) -> str:
        return self.path
