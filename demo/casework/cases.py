"""The casework demo's people and cases: who is supported, where, since when, in what state.

`CasePlanner.plan_all` draws every case (and the person it is about, for most of them)
with the course it takes: when it opened, how it ended if it did, how busy it was, and
how many contacts it will have. Nothing is saved here; what casework derives when it
writes a case (data keys, codes, birth year, lead workers' history) is left to
`casework.writers`.
"""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass, field

from accounts.models import Organisation, User
from casework.models import Case, Client, Contact, Gender, Topic
from casework.periods import AgeBand, age_band, fiscal_year, fiscal_year_bounds

from ..context import SeedContext
from .draw import Draw
from .tables import (
    AGE_RANGES,
    CASE_NOTES,
    CENTRE_CASES,
    CLOSURE_REASONS,
    CONSULTER_WORDS,
    CONSULTERS,
    FAMILY_CONSULTERS,
    FEMALE_NAMES,
    FULLWIDTH_DIGITS,
    GENDERS,
    LONG_WITHDRAWAL,
    MALE_NAMES,
    MUNICIPAL_CASES,
    MUNICIPAL_WINDOWS,
    NEUTRAL_NAMES,
    RESTRICTED_CASES,
    STATUSES,
    TOPICS,
    WITHDRAWAL,
)


@dataclass
class Prefecture:
    """The organisations and demo staff the casework demo works with."""

    centre: Organisation
    municipalities: list[Organisation]
    windows: list[Organisation]  # the municipal windows that keep cases of their own
    partners: list[Organisation]
    counsellor: User | None
    outreach: User | None
    supervisor: User | None
    # Only the demo users are known here; a municipality without one gets no lead worker.
    local_staff: dict[int, list[User]]

    @property
    def centre_staff(self) -> list[User]:
        return [u for u in (self.counsellor, self.outreach) if u is not None]

    @classmethod
    def from_context(cls, context: SeedContext) -> Prefecture:
        centre = context.organisations["centre"]
        users = context.users

        def member(name: str) -> User | None:
            user = users.get(name)
            return user if user is not None and user.organisation_id == centre.pk else None

        local_staff: dict[int, list[User]] = {}
        for user in users.values():
            if user.organisation_id and user.organisation_id != centre.pk:
                local_staff.setdefault(user.organisation_id, []).append(user)
        return cls(
            centre=centre,
            municipalities=[
                org
                for key, org in context.organisations.items()
                if key != "centre" and org.kind == Organisation.Kind.MUNICIPALITY
            ],
            windows=[
                context.organisations[code]
                for code in MUNICIPAL_WINDOWS
                if code in context.organisations
            ],
            partners=list(Organisation.objects.filter(kind=Organisation.Kind.PARTNER)),
            counsellor=member("counsellor"),
            outreach=member("outreach"),
            supervisor=member("supervisor"),
            local_staff=local_staff,
        )


@dataclass
class Plan:
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


class CasePlanner:
    def __init__(self, draw: Draw, prefecture: Prefecture) -> None:
        self.draw = draw
        self.rng = draw.rng
        self.today = draw.today
        self.prefecture = prefecture
        self.start = fiscal_year_bounds(fiscal_year(self.today) - 1)[0]
        self.person_numbers = itertools.count(1)

    def plan_all(self, contacts: int) -> list[Plan]:
        """About 250 cases at the centre and 20 at each municipal window, sharing
        `contacts` contacts among them."""
        draw, centre = self.draw, self.prefecture.centre
        span = (self.today - self.start).days
        opened = sorted(
            draw.weekday(
                self.start + datetime.timedelta(days=self.rng.randint(0, span)),
                self.start,
                self.today,
            )
            for _ in range(CENTRE_CASES - 2)
        )
        # Two calls this morning: a new intake is the first thing a demo shows, and it
        # means the current fiscal year has contacts even on the 1st of April.
        plans = [self.plan_case(centre, day) for day in [*opened, self.today, self.today]]
        for window in self.prefecture.windows:
            for _ in range(MUNICIPAL_CASES):
                day = draw.weekday(draw.day_between(self.start, self.today), self.start, self.today)
                plans.append(self.plan_case(window, day))
        self.mark_restricted_and_mdt(plans)
        self.allocate_contacts(plans, contacts)
        return plans

    def plan_case(self, organisation: Organisation, opened_on: datetime.date) -> Plan:
        rng, draw = self.rng, self.draw
        at_centre = organisation.pk == self.prefecture.centre.pk
        leads = self.lead_workers(organisation)
        recorder = leads[0] if leads else None
        has_client = rng.random() < (0.85 if at_centre else 0.8)
        age = rng.randint(*draw.pick(AGE_RANGES))
        near = None if at_centre else organisation
        client = (
            self.client(organisation, age, draw.residence(near), recorder) if has_client else None
        )
        case = self.case(organisation, client, opened_on, age, recorder)
        last_day, recent_within, intensity = self.course(case)
        if not at_centre:
            intensity *= 0.5  # municipal windows see people less often than the centre
        plan = Plan(
            case=case,
            client=client,
            at_centre=at_centre,
            leads=leads,
            last_day=last_day,
            recent_within=recent_within,
            intensity=intensity,
            consulter=draw.pick(CONSULTERS if client else FAMILY_CONSULTERS),
        )
        if client is None:
            plan.age_band = age_band(self.today.year - age, self.today)
            plan.gender = draw.pick(GENDERS)
            plan.residence = draw.residence(near)
        weights: dict[str, float] = dict(TOPICS)
        weights[Topic.SCHOOL] *= 4 if age < 20 else 0.3 if age > 25 else 1
        if client is not None and client.household_8050:
            weights[Topic.MONEY] *= 3
        plan.topic_weights = weights
        who = rng.choice(CONSULTER_WORDS[plan.consulter])
        case.summary = f"【デモ】{who}からの相談で受付。{rng.choice(CASE_NOTES)}"
        return plan

    def case(
        self,
        organisation: Organisation,
        client: Client | None,
        opened_on: datetime.date,
        age: int,
        recorder: User | None,
    ) -> Case:
        """The case with its state and its profile; its dates come from `course`."""
        rng = self.rng
        if (self.today - opened_on).days < 30:
            status = Case.Status.INTAKE if rng.random() < 0.6 else Case.Status.ACTIVE
        else:
            status = self.draw.pick(STATUSES)
        return Case(
            organisation=organisation,
            client=client,
            status=status,
            opened_on=opened_on,
            withdrawal_band=self.draw.pick(
                {band: weight for band, years, weight in WITHDRAWAL if years <= age - 12}
            ),
            school_refusal_history=rng.random() < (0.6 if age < 25 else 0.3),
            suspected_mental_illness=rng.random() < 0.3,
            suspected_developmental_disability=rng.random() < 0.2,
            employment_history=rng.random() < (0.15 if age < 25 else 0.6),
            updated_by=recorder,
        )

    def course(self, case: Case) -> tuple[datetime.date, int | None, float]:
        """When the case's state changed (and it closed, if it did), and so: the last day
        it has contacts, how recently an open case was seen, and how busy it was."""
        draw, opened_on = self.draw, case.opened_on
        last_day, recent_within, intensity = self.today, None, self.rng.lognormvariate(0, 0.7)
        if case.status == Case.Status.INTAKE:
            case.status_changed_on = opened_on
        elif case.status == Case.Status.ACTIVE:
            case.status_changed_on = draw.day_between(
                opened_on, min(self.today, opened_on + datetime.timedelta(days=14))
            )
            recent_within = 30
        elif case.status == Case.Status.MONITORING:
            span = (self.today - opened_on).days
            case.status_changed_on = draw.day_between(
                opened_on + datetime.timedelta(days=span // 2), self.today
            )
            recent_within, intensity = 90, intensity * 0.4
        else:
            case.closed_on = draw.day_between(opened_on + datetime.timedelta(days=30), self.today)
            case.status_changed_on = case.closed_on
            case.closure_reason = draw.pick(CLOSURE_REASONS)
            last_day = case.closed_on
            if case.closure_reason == Case.ClosureReason.LOST_CONTACT:
                # Closed after months of silence: the last contact is well before closure.
                gap = datetime.timedelta(days=self.rng.randint(30, 90))
                last_day = max(opened_on, case.closed_on - gap)
        return last_day, recent_within, intensity

    def lead_workers(self, organisation: Organisation) -> list[User]:
        prefecture = self.prefecture
        if organisation.pk != prefecture.centre.pk:
            return list(prefecture.local_staff.get(organisation.pk, []))
        counsellor, outreach = prefecture.counsellor, prefecture.outreach
        if counsellor is None or outreach is None:  # one of them (`centre_staff`) or none
            return list(prefecture.centre_staff)
        roll = self.rng.random()
        if roll < 0.5:
            return [counsellor]
        if roll < 0.75:
            return [outreach]
        return [counsellor, outreach]

    def client(
        self,
        organisation: Organisation,
        age: int,
        residence: Organisation | None,
        recorder: User | None,
    ) -> Client:
        rng = self.rng
        number = next(self.person_numbers)
        gender = self.draw.pick(GENDERS)
        names = {Gender.MALE: MALE_NAMES, Gender.FEMALE: FEMALE_NAMES}.get(gender, NEUTRAL_NAMES)
        given, kana = rng.choice(names)
        birth_date = _years_before(self.today, age) - datetime.timedelta(days=rng.randint(0, 364))
        town = residence.name if residence is not None else "三重県"
        lives_alone = age >= 30 and rng.random() < 0.08
        return Client(
            organisation=organisation,
            name=f"デモ {given}{str(number).translate(FULLWIDTH_DIGITS)}",
            name_kana=f"デモ {kana}",
            birth_date=birth_date,
            phone=f"000-0000-{number:04d}" if rng.random() < 0.85 else None,
            address=f"{town}デモ町{rng.randint(1, 9)}-{rng.randint(1, 30)}",
            notes="【デモ】連絡は母親の携帯電話へ。" if rng.random() < 0.2 else None,
            gender=gender,
            municipality=residence,
            household_8050=not lives_alone and age >= 40 and rng.random() < 0.4,
            lives_alone=lives_alone,
            updated_by=recorder,
        )

    def mark_restricted_and_mdt(self, plans: list[Plan]) -> None:
        centre_plans = [p for p in plans if p.at_centre]
        for plan in self.rng.sample(centre_plans, min(RESTRICTED_CASES, len(centre_plans))):
            plan.case.restricted = True
        local_with_leads = [p for p in plans if not p.at_centre and p.leads]
        if local_with_leads:
            self.rng.choice(local_with_leads).case.restricted = True
        for plan in centre_plans:
            case = plan.case
            open_case = case.status in (Case.Status.ACTIVE, Case.Status.MONITORING)
            complex_case = case.suspected_mental_illness or case.withdrawal_band in LONG_WITHDRAWAL
            case.mdt_supported = open_case and complex_case and self.rng.random() < 0.35

    def allocate_contacts(self, plans: list[Plan], target: int) -> None:
        """Share `target` contacts among the cases by how long and how busily each ran."""
        weights = [p.intensity * (p.last_day - p.case.opened_on).days for p in plans]
        extra = max(0, target - len(plans))
        total = sum(weights) or 1
        for plan, weight in zip(plans, weights, strict=True):
            # Stochastic rounding keeps the sum close to the target.
            wanted = 1 + int(extra * weight / total + self.rng.random())
            room = 1 + (plan.last_day - plan.case.opened_on).days
            plan.planned = min(wanted, room, 60)


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)
