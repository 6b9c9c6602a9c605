"""Data keys, clients and cases.

Records that carry encrypted data have UUID primary keys made in Python, so a value can be
bound to its row before the row is first written.
"""

from __future__ import annotations

import datetime
import os
import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from audit.history import HistoricalRecords

from . import crypto
from .fields import BlindIndexField, EncryptedDateField, EncryptedTextField
from .periods import AgeBand

# Crockford's base32 without I, L, O, U: short codes that read aloud and type cleanly.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MINUTES_IN_A_DAY = 24 * 60
# Longest record texts, the same on every path in (screens, API, imports): the model's
# validators, which every service's full_clean runs, hold them.
SUMMARY_MAX = 4000
NOTE_MAX = 2000


def new_code(prefix: str) -> str:
    """A random pseudonymous code such as ``C-7K3M9Q``; it says nothing about the person."""
    return prefix + "-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


class DataKeyQuerySet(models.QuerySet):
    def live(self) -> DataKeyQuerySet:
        return self.filter(destroyed_at__isnull=True)


class DataKey(models.Model):
    """A random data key, stored only wrapped by the key ring (envelope encryption)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kek_id = models.CharField(_("鍵暗号化鍵ID"), max_length=32, blank=True)
    wrapped = models.BinaryField(_("ラップ済みデータ鍵"), null=True)
    # Set only for the key of contacts that have no case (one per organisation and year).
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, null=True, related_name="+"
    )
    fiscal_year = models.PositiveSmallIntegerField(null=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    objects = DataKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("データ鍵")
        verbose_name_plural = _("データ鍵")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "fiscal_year"],
                condition=Q(organisation__isnull=False),
                name="datakey_one_per_organisation_year",
            ),
            models.CheckConstraint(
                condition=Q(destroyed_at__isnull=False) | Q(wrapped__isnull=False),
                name="datakey_live_has_material",
            ),
        ]
        indexes = [
            # The newest destruction, which every process reads once a request
            # (crypto._Destructions): a few entries, read from the index alone.
            models.Index(
                fields=["destroyed_at"],
                condition=Q(destroyed_at__isnull=False),
                name="datakey_destroyed",
            ),
        ]

    def __str__(self) -> str:
        return str(self.id)

    @classmethod
    def new(cls, **fields: object) -> DataKey:
        """An unsaved data key with fresh key material, wrapped by the active key."""
        key = cls(**fields)
        material = os.urandom(crypto.KEY_BYTES)
        key.kek_id, key.wrapped = crypto.keyring().wrap(material, key.id)
        crypto.cipher_cache.put(key.id.hex, crypto.AESGCM(material))
        return key

    @classmethod
    def create(cls, **fields: object) -> DataKey:
        key = cls.new(**fields)
        key.save(force_insert=True)
        return key

    @classmethod
    def for_organisation_year(cls, organisation_id: int, fiscal_year: int) -> DataKey:
        """The key for case-less records of one organisation and fiscal year."""
        found = cls.objects.filter(organisation_id=organisation_id, fiscal_year=fiscal_year)
        key = found.first()
        if key is not None:
            return key
        try:
            with transaction.atomic():
                return cls.create(organisation_id=organisation_id, fiscal_year=fiscal_year)
        except IntegrityError:  # another writer made it first
            return found.get()

    def destroy(self) -> None:
        """Crypto-shred: the key material is gone, so every value under it is unreadable."""
        self.wrapped = None
        self.kek_id = ""
        self.destroyed_at = timezone.now()
        self.save(update_fields=["wrapped", "kek_id", "destroyed_at"])
        crypto.cipher_cache.evict(self.id.hex)


class EncryptedRecord(models.Model):
    """A row with sensitive fields: UUID made in Python and a data key of its own or shared.

    A row saved without a data key gets a new one of its own; rows that share a key (the
    contacts of a case) are given it by their service.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    data_key = models.ForeignKey(
        DataKey, on_delete=models.PROTECT, related_name="+", editable=False
    )

    class Meta:
        abstract = True

    def save(self, *args: object, **kwargs: object) -> None:
        if self.data_key_id is None:
            self.data_key = DataKey.create()
        super().save(*args, **kwargs)


class PseudonymousRecord(EncryptedRecord):
    """An encrypted record that lists, URLs and statistics show by a random code."""

    code_prefix = ""
    code = models.CharField(_("コード"), max_length=12, unique=True, editable=False)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.code

    def save(self, *args: object, **kwargs: object) -> None:
        # 32**6 codes per prefix: a clash is rare, but cheaper to avoid than to explain.
        while self._state.adding and (
            not self.code or type(self).objects.filter(code=self.code).exists()
        ):
            self.code = new_code(self.code_prefix)
        super().save(*args, **kwargs)


class Versioned(models.Model):
    """Optimistic locking: an edit names the version it started from (services check it)."""

    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    class Meta:
        abstract = True


class Gender(models.TextChoices):
    MALE = "male", _("男性")
    FEMALE = "female", _("女性")
    OTHER = "other", _("その他")
    UNKNOWN = "unknown", _("不明")


class Client(PseudonymousRecord, Versioned):
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


class Case(PseudonymousRecord, Versioned):
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


class CaseUserObjectPermission(UserObjectPermissionBase):
    """Object grants on cases (MDT agenda, referral, share, break-glass): direct FK."""

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


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


class Contact(EncryptedRecord, Versioned):
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


class Milestone(EncryptedRecord):
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

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("到達状況")
        verbose_name_plural = _("到達状況")
        ordering = ["-achieved_on"]
        indexes = [models.Index(fields=["kind", "achieved_on"])]

    def __str__(self) -> str:
        return f"{self.achieved_on} {self.get_kind_display()}"


class ActiveGrantQuerySet(models.QuerySet):
    def active(self, now=None):
        """Not ended and not expired."""
        return self.filter(ended_at__isnull=True, expires_at__gt=now or timezone.now())


class BreakGlassQuerySet(models.QuerySet):
    def active(self, now=None):
        """Approved (or needing no approval), not expired, for an existing case."""
        now = now or timezone.now()
        return self.filter(case__isnull=False, approved_at__isnull=False, expires_at__gt=now)

    def pending(self, now=None):
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
        Case,
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
        code = self.case.code if self.case_id else self.requested_code
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
        Case, on_delete=models.CASCADE, related_name="read_backs", verbose_name=_("ケース")
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
