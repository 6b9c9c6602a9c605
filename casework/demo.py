"""Demo casework for the demo prefecture (Mie): about two fiscal years of a centre's work.

`seed(context)` is the casework part of `manage.py seed_demo`. It adds about 250 cases at
the prefectural centre and about 20 at each of four municipal windows, some 3,000 contacts
spread over the previous and the current fiscal year (about 15% of them anonymous), some
60 milestones, and a few open follow-ups for the demo counsellor and outreach worker.
Everything is synthetic and says so: every person is named デモ, every phone number
starts 000-0000, every address is in デモ町 and every free text begins with 【デモ】.

Rows go in through bulk inserts with their history rows, not through `services`: the
services run one audited transaction per record, far too slow for thousands of rows, and
the seed command records one audit event for the whole import. Bulk inserts call neither
`save()` nor the history signals, so this module sets what those would have set: codes,
data keys, birth years, last-contact times and history rows (lead workers included).
Field encryption and blind indexes still happen, in the fields' `pre_save`.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accounts.models import Organisation, User

from .models import (
    Case,
    Channel,
    Client,
    Consulter,
    Contact,
    DataKey,
    Gender,
    Milestone,
    Topic,
    new_code,
)
from .periods import AgeBand, age_band, fiscal_year, fiscal_year_bounds

if TYPE_CHECKING:
    import random

    from accounts.management.commands.seed_demo import SeedContext

T = TypeVar("T", bound=Hashable)

CENTRE_CASES = 250
# 津市, 四日市市, 松阪市, 伊賀市: the larger windows, in different regions.
MUNICIPAL_WINDOWS = ("242012", "242021", "242047", "242161")
MUNICIPAL_CASES = 20
CONTACTS = 3000
ANONYMOUS_SHARE = 0.15
MILESTONE_CASES = 45
SECOND_MILESTONES = 15  # of those cases, this many reach a second milestone
RESTRICTED_CASES = 4
HISTORY_REASON = "デモデータ（seed_demo）"

# Approximate populations in thousands (2020 census, rounded), used only as weights so
# that residence follows where people live.
POPULATION = {
    "242012": 275,
    "242021": 305,
    "242039": 123,
    "242047": 159,
    "242055": 139,
    "242071": 196,
    "242080": 76,
    "242098": 16,
    "242101": 50,
    "242110": 18,
    "242128": 16,
    "242144": 45,
    "242152": 46,
    "242161": 90,
    "243035": 6,
    "243248": 26,
    "243418": 40,
    "243434": 11,
    "243442": 15,
    "244414": 14,
    "244422": 22,
    "244431": 9,
    "244619": 15,
    "244708": 8,
    "244716": 8,
    "244724": 11,
    "245437": 15,
    "245615": 8,
    "245623": 11,
}

CHANNELS = {
    Channel.PHONE: 40,
    Channel.CENTRE_VISIT: 22,
    Channel.HOME_VISIT: 15,
    Channel.EMAIL: 8,
    Channel.ONLINE: 7,
    Channel.ACCOMPANIMENT: 5,
}
# Most people first reach a centre by telephone; nobody is accompanied on day one.
FIRST_CHANNELS = {
    Channel.PHONE: 65,
    Channel.CENTRE_VISIT: 15,
    Channel.EMAIL: 12,
    Channel.ONLINE: 5,
    Channel.HOME_VISIT: 3,
}
ANONYMOUS_CHANNELS = {
    Channel.PHONE: 78,
    Channel.EMAIL: 12,
    Channel.CENTRE_VISIT: 6,
    Channel.ONLINE: 4,
}
# (shortest, longest, most usual) minutes; kept within 5–90.
MINUTES = {
    Channel.PHONE: (5, 60, 20),
    Channel.EMAIL: (5, 30, 10),
    Channel.CENTRE_VISIT: (30, 90, 60),
    Channel.HOME_VISIT: (30, 90, 60),
    Channel.ONLINE: (20, 90, 45),
    Channel.ACCOMPANIMENT: (45, 90, 90),
}

# The person who usually speaks for the case: parents far more often than anyone else.
CONSULTERS = {
    Consulter.PARENT: 52,
    Consulter.SELF: 25,
    Consulter.SIBLING: 11,
    Consulter.AGENCY: 7,
    Consulter.OTHER: 2,
    Consulter.OTHER_FAMILY: 1,
    Consulter.SPOUSE: 1,
}
# A case without a registered person is a family consulting on their own.
FAMILY_CONSULTERS = {
    Consulter.PARENT: 84,
    Consulter.SIBLING: 12,
    Consulter.OTHER_FAMILY: 2,
    Consulter.SPOUSE: 2,
}
ANONYMOUS_CONSULTERS = {
    Consulter.PARENT: 50,
    Consulter.SELF: 22,
    Consulter.SIBLING: 10,
    Consulter.AGENCY: 7,
    Consulter.OTHER: 5,
    Consulter.OTHER_FAMILY: 3,
}

# Ages of the people supported, 15 to 65: the national surveys find as many aged 40–64
# as aged 15–39.
AGE_RANGES = {(15, 19): 10, (20, 29): 25, (30, 39): 25, (40, 49): 20, (50, 59): 14, (60, 65): 6}
GENDERS = {Gender.MALE: 60, Gender.FEMALE: 36, Gender.OTHER: 1, Gender.UNKNOWN: 3}
ANONYMOUS_GENDERS = {Gender.MALE: 50, Gender.FEMALE: 30, Gender.UNKNOWN: 20}
ANONYMOUS_AGE_BANDS = {
    AgeBand.UNDER_20: 10,
    AgeBand.TWENTIES: 20,
    AgeBand.THIRTIES: 20,
    AgeBand.FORTIES: 15,
    AgeBand.FIFTIES: 10,
    AgeBand.SIXTY_PLUS: 5,
    AgeBand.UNKNOWN: 20,
}

# (band, years it implies at least, weight); a band is drawn only if the person is old
# enough to have been withdrawn that long since about the age of twelve.
WITHDRAWAL = [
    (Case.WithdrawalBand.UNDER_6M, 0, 8),
    (Case.WithdrawalBand.UNDER_1Y, 0, 10),
    (Case.WithdrawalBand.UNDER_3Y, 1, 22),
    (Case.WithdrawalBand.UNDER_5Y, 3, 15),
    (Case.WithdrawalBand.UNDER_10Y, 5, 17),
    (Case.WithdrawalBand.UNDER_20Y, 10, 12),
    (Case.WithdrawalBand.OVER_20Y, 20, 6),
    (Case.WithdrawalBand.UNKNOWN, 0, 10),
]
LONG_WITHDRAWAL = {
    Case.WithdrawalBand.UNDER_10Y,
    Case.WithdrawalBand.UNDER_20Y,
    Case.WithdrawalBand.OVER_20Y,
}
STATUSES = {Case.Status.ACTIVE: 45, Case.Status.MONITORING: 15, Case.Status.CLOSED: 40}
# "merged" is left out: it needs a case to merge into, which only merge_cases makes.
CLOSURE_REASONS = {
    Case.ClosureReason.GOAL_REACHED: 30,
    Case.ClosureReason.REFERRED: 25,
    Case.ClosureReason.LOST_CONTACT: 20,
    Case.ClosureReason.WISH: 12,
    Case.ClosureReason.MOVED: 7,
    Case.ClosureReason.OTHER: 5,
    Case.ClosureReason.DECEASED: 1,
}

TOPICS = {
    Topic.DAILY_LIFE: 25,
    Topic.FAMILY: 25,
    Topic.HEALTH: 15,
    Topic.WORK: 12,
    Topic.IBASHO: 12,
    Topic.SCHOOL: 5,
    Topic.MONEY: 5,
    Topic.VIOLENCE: 2,
    Topic.OTHER: 3,
}
TOPIC_COUNTS = {1: 45, 2: 40, 3: 15}

MILESTONES = {
    Milestone.Kind.IBASHO: 20,
    Milestone.Kind.LEFT_HOME: 18,
    Milestone.Kind.MEDICAL_CARE: 12,
    Milestone.Kind.WELFARE_SERVICE: 10,
    Milestone.Kind.INTERMEDIATE_WORK: 8,
    Milestone.Kind.EMPLOYED: 8,
    Milestone.Kind.BACK_TO_SCHOOL: 5,
    Milestone.Kind.OTHER: 3,
}

MALE_NAMES = [
    ("太郎", "タロウ"),
    ("一郎", "イチロウ"),
    ("健太", "ケンタ"),
    ("翔太", "ショウタ"),
    ("大輔", "ダイスケ"),
    ("拓也", "タクヤ"),
    ("浩二", "コウジ"),
    ("隆", "タカシ"),
    ("悠斗", "ユウト"),
]
FEMALE_NAMES = [
    ("花子", "ハナコ"),
    ("陽子", "ヨウコ"),
    ("美咲", "ミサキ"),
    ("由美", "ユミ"),
    ("恵", "メグミ"),
    ("さくら", "サクラ"),
    ("直美", "ナオミ"),
]
NEUTRAL_NAMES = [("ひかる", "ヒカル"), ("あおい", "アオイ"), ("まこと", "マコト")]
FULLWIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")

CHANNEL_WORDS = {
    Channel.PHONE: "電話相談",
    Channel.CENTRE_VISIT: "来所相談",
    Channel.HOME_VISIT: "家庭訪問",
    Channel.EMAIL: "メール相談",
    Channel.ONLINE: "オンライン面談",
    Channel.ACCOMPANIMENT: "同行支援",
}
CONSULTER_WORDS = {
    Consulter.PARENT: ("母親", "父親"),
    Consulter.SELF: ("本人",),
    Consulter.SIBLING: ("姉", "兄", "妹", "弟"),
    Consulter.SPOUSE: ("配偶者",),
    Consulter.OTHER_FAMILY: ("祖母", "叔父"),
    Consulter.AGENCY: ("市の福祉担当課", "保健所", "地域包括支援センター", "民生委員"),
    Consulter.OTHER: ("知人",),
}
TOPIC_NOTES = {
    Topic.DAILY_LIFE: (
        "昼夜逆転の生活が続いている。",
        "日中は自室で過ごすことが多い。",
        "起床時間が少しずつ早くなってきた。",
    ),
    Topic.FAMILY: (
        "親子の会話が減っているとのこと。",
        "父親との関係に緊張がある。",
        "家族の関わり方について助言した。",
    ),
    Topic.HEALTH: (
        "不眠の訴えがある。",
        "受診について話し合った。",
        "気分の落ち込みが続いている。",
    ),
    Topic.SCHOOL: ("不登校の経緯を聞き取った。", "通信制高校の情報を提供した。"),
    Topic.WORK: (
        "就労への不安を話された。",
        "サポートステーションの利用を検討中。",
        "短時間のアルバイトに関心がある。",
    ),
    Topic.MONEY: (
        "親の年金で暮らしており、将来の生活費が心配とのこと。",
        "生活困窮者自立支援制度について説明した。",
    ),
    Topic.IBASHO: ("居場所の見学を提案した。", "居場所のプログラムに参加した。"),
    Topic.VIOLENCE: ("家族への暴言があり、安全の確保について確認した。",),
    Topic.OTHER: ("近況を確認した。",),
}
CASE_NOTES = (
    "家族以外との交流がほとんどない。",
    "退職後から外出が減った。",
    "高校中退後から自宅で過ごしている。",
    "家族は本人への声かけに悩んでいる。",
    "通院歴あり、現在は中断している。",
)
FOLLOW_UPS = (
    "次回面談の日程を電話で確認する。",
    "家族教室の案内を送る。",
    "市の担当課と支援方針を共有する。",
    "受診同行の日程を調整する。",
    "居場所の見学日を調整する。",
    "本人宛ての手紙を送る。",
)
MILESTONE_NOTES = {
    Milestone.Kind.IBASHO: "居場所に月2回通うようになった。",
    Milestone.Kind.INTERMEDIATE_WORK: "中間的就労（軽作業）を週2日で開始。",
    Milestone.Kind.EMPLOYED: "短時間勤務で就職した。",
    Milestone.Kind.BACK_TO_SCHOOL: "通信制高校に入学した。",
    Milestone.Kind.MEDICAL_CARE: "精神科を受診し、通院を始めた。",
    Milestone.Kind.WELFARE_SERVICE: "就労継続支援B型の利用を開始。",
    Milestone.Kind.LEFT_HOME: "近所のコンビニまで一人で外出できた。",
    Milestone.Kind.OTHER: "家族以外の人と話せるようになった。",
}


@dataclass
class _Plan:
    """One case being built, with what its contacts need to know about it."""

    case: Case
    client: Client | None
    at_centre: bool
    leads: list[User]
    last_day: datetime.date  # no contact after this day
    recent_within: int | None  # days: an open case was last seen at most this long ago
    intensity: float
    consulter: str
    # The snapshot of a case with no registered person: what the family told us.
    age_band: str = AgeBand.UNKNOWN
    gender: str = Gender.UNKNOWN
    residence: Organisation | None = None
    topic_weights: dict[str, float] = field(default_factory=dict)
    planned: int = 1  # how many contacts the case will have
    contacts: list[Contact] = field(default_factory=list)


def seed(context: SeedContext) -> None:
    """Add the demo casework; does nothing if the centre already has a case."""
    if Case.objects.filter(organisation=context.organisations["centre"]).exists():
        return
    builder = _Builder(context)
    if not builder.centre_staff:
        return  # without the demo counsellor or outreach worker nobody could log a contact
    with transaction.atomic():
        builder.build()
        builder.save()


class _Builder:
    def __init__(self, context: SeedContext) -> None:
        self.rng: random.Random = context.rng
        self.counts = context.counts
        # Never later than the real date, so that no contact lands in the future.
        self.today = min(context.today, timezone.localdate())
        self.tz = timezone.get_current_timezone()
        self.now = min(
            timezone.now(),
            datetime.datetime.combine(self.today, datetime.time.max, tzinfo=self.tz),
        )
        self.start = fiscal_year_bounds(fiscal_year(self.today) - 1)[0]
        self.centre = context.organisations["centre"]
        self.municipalities = [
            org
            for key, org in context.organisations.items()
            if key != "centre" and org.kind == Organisation.Kind.MUNICIPALITY
        ]
        self.windows = [
            context.organisations[code]
            for code in MUNICIPAL_WINDOWS
            if code in context.organisations
        ]
        self.partners = list(Organisation.objects.filter(kind=Organisation.Kind.PARTNER))

        users = context.users
        self.counsellor = self._member(users.get("counsellor"), self.centre)
        self.outreach = self._member(users.get("outreach"), self.centre)
        self.supervisor = self._member(users.get("supervisor"), self.centre)
        self.centre_staff = [u for u in (self.counsellor, self.outreach) if u is not None]
        # Only the demo users are known here; a municipality without one gets no lead worker.
        self.local_staff: dict[int, list[User]] = {}
        for user in users.values():
            if user.organisation_id and user.organisation_id != self.centre.pk:
                self.local_staff.setdefault(user.organisation_id, []).append(user)

        self.keys: list[DataKey] = []
        self.year_keys: dict[tuple[int, int], DataKey] = {}
        self.plans: list[_Plan] = []
        self.anonymous: list[Contact] = []
        self.milestones: list[Milestone] = []
        self.person_numbers = itertools.count(1)

    @staticmethod
    def _member(user: User | None, organisation: Organisation) -> User | None:
        return user if user is not None and user.organisation_id == organisation.pk else None

    # --- randomness helpers -------------------------------------------------------------

    def pick(self, weighted: dict[T, float]) -> T:
        return self.rng.choices(list(weighted), weights=list(weighted.values()))[0]

    def day_between(self, first: datetime.date, last: datetime.date) -> datetime.date:
        return first + datetime.timedelta(days=self.rng.randint(0, max(0, (last - first).days)))

    def weekday(
        self, day: datetime.date, first: datetime.date, last: datetime.date
    ) -> datetime.date:
        """The nearest working day within [first, last]: the centre is closed at weekends."""
        if day.weekday() < 5:
            return day
        for step in (-1, 1, -2, 2) if day.weekday() == 5 else (1, -1, 2, -2):
            moved = day + datetime.timedelta(days=step)
            if first <= moved <= last and moved.weekday() < 5:
                return moved
        return day

    def moment(self, day: datetime.date) -> datetime.datetime:
        """A time in office hours on `day`, never later than now."""
        when = datetime.datetime.combine(
            day, datetime.time(self.rng.randint(9, 17), 5 * self.rng.randint(0, 11)), tzinfo=self.tz
        )
        if when > self.now:
            earliest = datetime.datetime.combine(day, datetime.time.min, tzinfo=self.tz)
            when = max(earliest, self.now - datetime.timedelta(minutes=self.rng.randint(0, 90)))
        return when

    def later(self, when: datetime.datetime, minutes: int) -> datetime.datetime:
        return min(when + datetime.timedelta(minutes=minutes), self.now)

    def residence(self, near: Organisation | None = None) -> Organisation | None:
        if near is not None and self.rng.random() < 0.92:
            return near
        if not self.municipalities:
            return None
        weights = [POPULATION.get(o.local_government_code, 10) for o in self.municipalities]
        return self.rng.choices(self.municipalities, weights=weights)[0]

    def topics(self, weights: dict[str, float]) -> list[str]:
        pool = dict(weights)
        chosen = set()
        for _ in range(min(self.pick(TOPIC_COUNTS), len(pool))):
            topic = self.pick(pool)
            chosen.add(topic)
            del pool[topic]
        return [t for t in Topic.values if t in chosen]

    def minutes(self, channel: str) -> int:
        low, high, mode = MINUTES[channel]
        return min(high, max(low, 5 * round(self.rng.triangular(low, high, mode) / 5)))

    def summary(self, channel: str, consulter: str, topics: Iterable[str]) -> str:
        who = self.rng.choice(CONSULTER_WORDS[consulter])
        notes = "".join(self.rng.choice(TOPIC_NOTES[t]) for t in list(topics)[:2])
        return f"【デモ】{CHANNEL_WORDS[channel]}（{who}）。{notes}"

    # --- building -----------------------------------------------------------------------

    def build(self) -> None:
        span = (self.today - self.start).days
        opened = sorted(
            self.weekday(
                self.start + datetime.timedelta(days=self.rng.randint(0, span)),
                self.start,
                self.today,
            )
            for _ in range(CENTRE_CASES - 2)
        )
        # Two calls this morning: a new intake is the first thing a demo shows, and it
        # means the current fiscal year has contacts even on the 1st of April.
        for day in [*opened, self.today, self.today]:
            self.plans.append(self.plan_case(self.centre, day))
        for window in self.windows:
            for _ in range(MUNICIPAL_CASES):
                day = self.weekday(self.day_between(self.start, self.today), self.start, self.today)
                self.plans.append(self.plan_case(window, day))
        self.mark_restricted_and_mdt()
        target = round(CONTACTS * (1 - ANONYMOUS_SHARE))
        self.allocate_contacts(target)
        for plan in self.plans:
            self.case_contacts(plan)
        self.anonymous_contacts(CONTACTS - target)
        self.plant_follow_ups()
        self.plan_milestones()

    def plan_case(self, organisation: Organisation, opened_on: datetime.date) -> _Plan:
        rng = self.rng
        at_centre = organisation.pk == self.centre.pk
        leads = self.lead_workers(organisation)
        recorder = leads[0] if leads else None
        has_client = rng.random() < (0.85 if at_centre else 0.8)
        age = rng.randint(*self.pick(AGE_RANGES))
        near = None if at_centre else organisation
        client = (
            self.client(organisation, age, self.residence(near), recorder) if has_client else None
        )

        span = (self.today - opened_on).days
        if span < 30:
            status = Case.Status.INTAKE if rng.random() < 0.6 else Case.Status.ACTIVE
        else:
            status = self.pick(STATUSES)
        case = Case(
            organisation=organisation,
            client=client,
            data_key=self.new_key(),
            code=new_code("C"),
            status=status,
            opened_on=opened_on,
            withdrawal_band=self.pick(
                {band: weight for band, years, weight in WITHDRAWAL if years <= age - 12}
            ),
            school_refusal_history=rng.random() < (0.6 if age < 25 else 0.3),
            suspected_mental_illness=rng.random() < 0.3,
            suspected_developmental_disability=rng.random() < 0.2,
            employment_history=rng.random() < (0.15 if age < 25 else 0.6),
            updated_by=recorder,
        )
        last_day, recent_within, intensity = self.today, None, rng.lognormvariate(0, 0.7)
        if status == Case.Status.INTAKE:
            case.status_changed_on = opened_on
        elif status == Case.Status.ACTIVE:
            case.status_changed_on = self.day_between(
                opened_on, min(self.today, opened_on + datetime.timedelta(days=14))
            )
            recent_within = 30
        elif status == Case.Status.MONITORING:
            case.status_changed_on = self.day_between(
                opened_on + datetime.timedelta(days=span // 2), self.today
            )
            recent_within, intensity = 90, intensity * 0.4
        else:
            case.closed_on = self.day_between(opened_on + datetime.timedelta(days=30), self.today)
            case.status_changed_on = case.closed_on
            case.closure_reason = self.pick(CLOSURE_REASONS)
            last_day = case.closed_on
            if case.closure_reason == Case.ClosureReason.LOST_CONTACT:
                # Closed after months of silence: the last contact is well before closure.
                gap = datetime.timedelta(days=rng.randint(30, 90))
                last_day = max(opened_on, case.closed_on - gap)
        if not at_centre:
            intensity *= 0.5  # municipal windows see people less often than the centre

        consulters = CONSULTERS if client else FAMILY_CONSULTERS
        plan = _Plan(
            case=case,
            client=client,
            at_centre=at_centre,
            leads=leads,
            last_day=last_day,
            recent_within=recent_within,
            intensity=intensity,
            consulter=self.pick(consulters),
        )
        if client is None:
            plan.age_band = age_band(self.today.year - age, self.today)
            plan.gender = self.pick(GENDERS)
            plan.residence = self.residence(near)
        weights = dict(TOPICS)
        weights[Topic.SCHOOL] *= 4 if age < 20 else 0.3 if age > 25 else 1
        if client is not None and client.household_8050:
            weights[Topic.MONEY] *= 3
        plan.topic_weights = weights
        who = rng.choice(CONSULTER_WORDS[plan.consulter])
        case.summary = f"【デモ】{who}からの相談で受付。{rng.choice(CASE_NOTES)}"
        return plan

    def lead_workers(self, organisation: Organisation) -> list[User]:
        if organisation.pk != self.centre.pk:
            return list(self.local_staff.get(organisation.pk, []))
        if len(self.centre_staff) == 1:
            return list(self.centre_staff)
        roll = self.rng.random()
        if roll < 0.5:
            return [self.counsellor]
        if roll < 0.75:
            return [self.outreach]
        return [self.counsellor, self.outreach]

    def new_key(self) -> DataKey:
        key = DataKey.new()
        self.keys.append(key)
        return key

    def year_key(self, organisation: Organisation, year: int) -> DataKey:
        found = self.year_keys.get((organisation.pk, year))
        if found is None:
            found = DataKey.for_organisation_year(organisation.pk, year)
            self.year_keys[organisation.pk, year] = found
        return found

    def client(
        self,
        organisation: Organisation,
        age: int,
        residence: Organisation | None,
        recorder: User | None,
    ) -> Client:
        rng = self.rng
        number = next(self.person_numbers)
        gender = self.pick(GENDERS)
        names = {Gender.MALE: MALE_NAMES, Gender.FEMALE: FEMALE_NAMES}.get(gender, NEUTRAL_NAMES)
        given, kana = rng.choice(names)
        birth_date = _years_before(self.today, age) - datetime.timedelta(days=rng.randint(0, 364))
        town = residence.name if residence is not None else "三重県"
        lives_alone = age >= 30 and rng.random() < 0.08
        return Client(
            organisation=organisation,
            data_key=self.new_key(),
            code=new_code("P"),
            name=f"デモ {given}{str(number).translate(FULLWIDTH_DIGITS)}",
            name_kana=f"デモ {kana}",
            birth_date=birth_date,
            birth_year=birth_date.year,  # save() would derive it; bulk_create does not
            phone=f"000-0000-{number:04d}" if rng.random() < 0.85 else None,
            address=f"{town}デモ町{rng.randint(1, 9)}-{rng.randint(1, 30)}",
            notes="【デモ】連絡は母親の携帯電話へ。" if rng.random() < 0.2 else None,
            gender=gender,
            municipality=residence,
            household_8050=not lives_alone and age >= 40 and rng.random() < 0.4,
            lives_alone=lives_alone,
            updated_by=recorder,
        )

    def mark_restricted_and_mdt(self) -> None:
        centre_plans = [p for p in self.plans if p.at_centre]
        for plan in self.rng.sample(centre_plans, min(RESTRICTED_CASES, len(centre_plans))):
            plan.case.restricted = True
        local_with_leads = [p for p in self.plans if not p.at_centre and p.leads]
        if local_with_leads:
            self.rng.choice(local_with_leads).case.restricted = True
        for plan in centre_plans:
            case = plan.case
            open_case = case.status in (Case.Status.ACTIVE, Case.Status.MONITORING)
            complex_case = case.suspected_mental_illness or case.withdrawal_band in LONG_WITHDRAWAL
            case.mdt_supported = open_case and complex_case and self.rng.random() < 0.35

    def allocate_contacts(self, target: int) -> None:
        """Share `target` contacts among the cases by how long and how busily each ran."""
        weights = [p.intensity * (p.last_day - p.case.opened_on).days for p in self.plans]
        extra = max(0, target - len(self.plans))
        total = sum(weights) or 1
        for plan, weight in zip(self.plans, weights, strict=True):
            # Stochastic rounding keeps the sum close to the target.
            wanted = 1 + int(extra * weight / total + self.rng.random())
            room = 1 + (plan.last_day - plan.case.opened_on).days
            plan.planned = min(wanted, room, 60)

    def case_contacts(self, plan: _Plan) -> None:
        rng = self.rng
        case, opened_on = plan.case, plan.case.opened_on
        window = (plan.last_day - opened_on).days
        days = []
        for _ in range(plan.planned - 1):
            # Contacts cluster in the first weeks, while the situation is being assessed.
            reach = min(45, window) if rng.random() < 0.35 else window
            day = opened_on + datetime.timedelta(days=rng.randint(1, max(1, reach)))
            days.append(self.weekday(min(day, plan.last_day), opened_on, plan.last_day))
        if days and plan.recent_within and plan.last_day == self.today:
            earliest = max(opened_on, self.today - datetime.timedelta(days=plan.recent_within))
            days[-1] = self.weekday(self.day_between(earliest, self.today), earliest, self.today)
        moments = sorted(self.moment(day) for day in [opened_on, *days])

        for index, when in enumerate(moments):
            first = index == 0
            channel = self.pick(FIRST_CHANNELS if first else CHANNELS)
            if channel == Channel.ACCOMPANIMENT and plan.client is not None:
                consulter = Consulter.SELF  # an accompanied visit is with the person
            elif plan.client is None or rng.random() < 0.7:
                consulter = plan.consulter
            else:
                consulter = self.pick(CONSULTERS)
            staff = self.contact_staff(plan, channel)
            topics = self.topics(plan.topic_weights)
            minutes = self.minutes(channel)
            day = when.date()
            contact = Contact(
                data_key=case.data_key,
                case=case,
                organisation=case.organisation,
                staff=staff,
                occurred_at=when,
                channel=channel,
                consulter=consulter,
                kind=Contact.Kind.FIRST if first else Contact.Kind.CONTINUING,
                minutes=minutes,
                topics=topics,
                referring_organisation=self.referrer(case.organisation, plan.client)
                if consulter == Consulter.AGENCY
                else None,
                summary=self.summary(channel, consulter, topics),
                updated_by=staff,
            )
            if plan.client is not None:
                contact.age_band = age_band(plan.client.birth_year, day)
                contact.gender = plan.client.gender
                contact.municipality = plan.client.municipality
            else:
                contact.age_band, contact.gender = plan.age_band, plan.gender
                contact.municipality = plan.residence
            if rng.random() < 0.12:
                contact.follow_up = "【デモ】" + rng.choice(FOLLOW_UPS)
                contact.follow_up_due = day + datetime.timedelta(days=rng.randint(3, 21))
                contact.follow_up_done = (
                    contact.follow_up_due < self.today or case.status == Case.Status.CLOSED
                )
            self.stamp(contact, self.later(when, minutes + rng.randint(5, 180)), staff)
            plan.contacts.append(contact)

        case.last_contact_at = moments[-1]
        self.stamp(case, moments[0], case.updated_by)
        case.updated_at = max(
            moments[0],
            min(
                self.now,
                datetime.datetime.combine(
                    case.status_changed_on, datetime.time(17, 30), tzinfo=self.tz
                ),
            ),
        )
        if plan.client is not None:
            self.stamp(plan.client, moments[0], case.updated_by)

    def contact_staff(self, plan: _Plan, channel: str) -> User:
        rng = self.rng
        if not plan.at_centre:
            # A window with no demo user borrows the centre counsellor: only so the row has
            # a member of staff, which the schema requires.
            return rng.choice(plan.leads) if plan.leads else self.centre_staff[0]
        if not plan.case.restricted:
            visiting = channel in (Channel.HOME_VISIT, Channel.ACCOMPANIMENT)
            if visiting and self.outreach is not None and rng.random() < 0.8:
                return self.outreach
            if self.supervisor is not None and rng.random() < 0.04:
                return self.supervisor
        return rng.choice(plan.leads)

    def referrer(self, organisation: Organisation, client: Client | None) -> Organisation | None:
        """A plausible referring agency: a partner, the person's municipality (for the
        centre) or the centre (for a municipality)."""
        candidates = list(self.partners)
        if organisation.pk != self.centre.pk:
            candidates.append(self.centre)
        elif client is not None and client.municipality is not None:
            candidates.append(client.municipality)
        return self.rng.choice(candidates) if candidates else None

    def anonymous_contacts(self, count: int) -> None:
        rng = self.rng
        for _ in range(count):
            local = bool(self.windows) and rng.random() < 0.25
            organisation = rng.choice(self.windows) if local else self.centre
            day = self.weekday(self.day_between(self.start, self.today), self.start, self.today)
            when = self.moment(day)
            if local:
                staff_pool = self.local_staff.get(organisation.pk) or self.centre_staff[:1]
            else:
                staff_pool = self.centre_staff
            staff = rng.choice(staff_pool)
            channel = self.pick(ANONYMOUS_CHANNELS)
            consulter = self.pick(ANONYMOUS_CONSULTERS)
            topics = self.topics(TOPICS)
            minutes = self.minutes(channel)
            if local:
                residence = self.residence(organisation)
            else:
                residence = self.residence() if rng.random() < 0.9 else None
            contact = Contact(
                data_key=self.year_key(organisation, fiscal_year(day)),
                case=None,
                organisation=organisation,
                staff=staff,
                occurred_at=when,
                channel=channel,
                consulter=consulter,
                kind=Contact.Kind.FIRST if rng.random() < 0.85 else Contact.Kind.CONTINUING,
                minutes=minutes,
                topics=topics,
                referring_organisation=self.referrer(organisation, None)
                if consulter == Consulter.AGENCY
                else None,
                age_band=self.pick(ANONYMOUS_AGE_BANDS),
                gender=self.pick(ANONYMOUS_GENDERS),
                municipality=residence,
                summary=self.summary(channel, consulter, topics),
                updated_by=staff,
            )
            self.stamp(contact, self.later(when, minutes + rng.randint(5, 120)), staff)
            self.anonymous.append(contact)

    def plant_follow_ups(self) -> None:
        """Open follow-ups for the demo counsellor and outreach worker, some overdue and
        some due within the week, on their own open cases, so their dashboards show some."""
        for user in (self.counsellor, self.outreach):
            if user is None:
                continue
            own = [
                contact
                for plan in self.plans
                if user in plan.leads and plan.case.status != Case.Status.CLOSED
                for contact in plan.contacts
                if contact.staff_id == user.pk
            ]
            own.sort(key=lambda contact: contact.occurred_at, reverse=True)
            two_days_ago = self.today - datetime.timedelta(days=2)
            upcoming = own[:3]
            overdue = [c for c in own[3:] if c.occurred_at.date() <= two_days_ago][:3]
            for contact in upcoming:
                due = self.today + datetime.timedelta(days=self.rng.randint(0, 7))
                self.open_follow_up(contact, due)
            for contact in overdue:
                after_contact = contact.occurred_at.date() + datetime.timedelta(days=1)
                earliest = max(after_contact, self.today - datetime.timedelta(days=6))
                self.open_follow_up(
                    contact, self.day_between(earliest, self.today - datetime.timedelta(days=1))
                )

    def open_follow_up(self, contact: Contact, due: datetime.date) -> None:
        contact.follow_up = "【デモ】" + self.rng.choice(FOLLOW_UPS)
        contact.follow_up_due = due
        contact.follow_up_done = False

    def plan_milestones(self) -> None:
        rng = self.rng
        eligible = [
            p
            for p in self.plans
            # A milestone needs someone of the case's own organisation to record it.
            if p.leads
            and len(p.contacts) >= 3
            and (p.contacts[-1].occurred_at.date() - p.case.opened_on).days >= 45
        ]
        for index, plan in enumerate(rng.sample(eligible, min(MILESTONE_CASES, len(eligible)))):
            kinds = dict(MILESTONES)
            if plan.client is None or self.today.year - plan.client.birth_year > 25:
                kinds.pop(Milestone.Kind.BACK_TO_SCHOOL)
            first_possible = plan.case.opened_on + datetime.timedelta(days=30)
            last_seen = plan.contacts[-1].occurred_at.date()
            dates = sorted(
                self.day_between(first_possible, last_seen)
                for _ in range(2 if index < SECOND_MILESTONES else 1)
            )
            for achieved_on in dates:
                kind = self.pick(kinds)
                kinds.pop(kind)
                recorder = plan.leads[0]
                milestone = Milestone(
                    case=plan.case,
                    data_key=plan.case.data_key,
                    kind=kind,
                    achieved_on=achieved_on,
                    note="【デモ】" + MILESTONE_NOTES[kind],
                    recorded_by=recorder,
                )
                at = datetime.datetime.combine(achieved_on, datetime.time(17, 30), tzinfo=self.tz)
                self.stamp(milestone, min(at, self.now), recorder)
                self.milestones.append(milestone)

    @staticmethod
    def stamp(
        obj: Client | Case | Contact | Milestone, when: datetime.datetime, user: User | None
    ) -> None:
        """Creation time and author, for the row and for its first history row."""
        obj.created_at = when
        if hasattr(obj, "updated_at"):
            obj.updated_at = when
        obj._history_date = when
        obj._history_user = user

    # --- saving -------------------------------------------------------------------------

    def save(self) -> None:
        clients = [p.client for p in self.plans if p.client is not None]
        cases = [p.case for p in self.plans]
        contacts = [c for p in self.plans for c in p.contacts] + self.anonymous
        _unique_codes(Client, clients, "P")
        _unique_codes(Case, cases, "C")

        DataKey.objects.bulk_create(self.keys)
        bulk_create_with_history(clients, Client, default_change_reason=HISTORY_REASON)
        bulk_create_with_history(cases, Case, default_change_reason=HISTORY_REASON)
        self.save_lead_workers(cases)
        bulk_create_with_history(contacts, Contact, default_change_reason=HISTORY_REASON)
        bulk_create_with_history(self.milestones, Milestone, default_change_reason=HISTORY_REASON)

        self.counts["clients"] = len(clients)
        self.counts["cases"] = len(cases)
        self.counts["contacts"] = len(contacts)
        self.counts["anonymous_contacts"] = len(self.anonymous)
        self.counts["milestones"] = len(self.milestones)

    def save_lead_workers(self, cases: list[Case]) -> None:
        """The through rows, and their history attached to each case's first history row
        (which is what `lead_workers.set()` would have recorded on a later one)."""
        through = Case.lead_workers.through
        through.objects.bulk_create(
            [through(case_id=p.case.pk, user_id=u.pk) for p in self.plans for u in p.leads]
        )
        case_ids = [case.pk for case in cases]
        history_ids = dict(
            Case.history.filter(id__in=case_ids, history_type="+").values_list("id", "history_id")
        )
        rows = through.objects.filter(case_id__in=case_ids).values_list("id", "case_id", "user_id")
        historical = Case.history.model.lead_workers.model
        historical.objects.bulk_create(
            [
                historical(id=pk, case_id=case_id, user_id=user_id, history_id=history_ids[case_id])
                for pk, case_id, user_id in rows
            ]
        )


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def _unique_codes(model: type[Client | Case], rows: list, prefix: str) -> None:
    """Codes unique among the new rows and the stored ones. A clash among 32^6 codes is
    unlikely, but it would abort the whole bulk insert, so it is ruled out first."""
    while True:
        seen: set[str] = set()
        for row in rows:
            while row.code in seen:
                row.code = new_code(prefix)
            seen.add(row.code)
        taken = set(model.objects.filter(code__in=seen).values_list("code", flat=True))
        if not taken:
            return
        for row in rows:
            if row.code in taken:
                row.code = new_code(prefix)
