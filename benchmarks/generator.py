"""The rows benchmarks/generate.py writes: reference data and staff, then cases with their
people, contacts, milestones, visits, meetings, programmes and referrals, in the demo's
proportions (demo/casework/tables.py), spread over the last three fiscal years.

Cases, clients, contacts and milestones go in through casework's bulk writers
(`casework.writers`), so they follow every rule the application's services follow (data
keys, codes, birth years, attribute snapshots, the organisation's key for the year of an
anonymous contact, last-contact times, lead workers, history rows); the other apps' rows
go in with plain `bulk_create`. No audit events are written.
"""

from __future__ import annotations

import datetime
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable

from generator_apps import OtherApps

CHUNK_CASES = 1500  # cases and clients: two data keys each, within the 4,096-key cache
BATCH = 2000  # rows per INSERT
YEARS = 3  # fiscal years of activity, the current one included
BENCH_USERS = ("bench_counsellor", "bench_supervisor", "bench_statistics")


def weighted(rng: random.Random, weights: dict) -> object:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class Generator(OtherApps):
    def __init__(self, *, cases: int, contacts: int, seed: int, password: str) -> None:
        from demo.casework import tables as demo

        self.demo = demo
        self.rng = random.Random(seed)
        self.cases_wanted = cases
        self.contacts_wanted = contacts
        self.password = password
        self.counts: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()
        from django.utils import timezone

        from casework.periods import fiscal_year, fiscal_year_bounds

        self.tz = timezone.get_current_timezone()
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.first_day = fiscal_year_bounds(fiscal_year(self.today) - (YEARS - 1))[0]
        self.days = (self.today - self.first_day).days
        self.fiscal_year = fiscal_year

    # -- helpers --

    def insert(self, model, rows: list) -> list:
        if not rows:
            return rows
        self.timed(
            {model._meta.db_table: len(rows)},
            lambda: model.objects.bulk_create(rows, batch_size=BATCH),
        )
        return rows

    def pick(self, weights: dict) -> object:
        return weighted(self.rng, weights)

    def timed(self, counts: dict[str, int], write: Callable[[], object]) -> None:
        """Run `write`, its seconds counted against the first table of `counts`."""
        started = time.perf_counter()
        write()
        self.seconds[next(iter(counts))] += time.perf_counter() - started
        self.counts.update(counts)

    def moment(self, day: datetime.date) -> datetime.datetime:
        at = datetime.datetime.combine(
            day, datetime.time(9 + self.rng.randrange(9), self.rng.randrange(60)), tzinfo=self.tz
        )
        return min(at, self.now - datetime.timedelta(minutes=self.rng.randrange(1, 600)))

    def day_after(self, start: datetime.date, end: datetime.date) -> datetime.date:
        span = max((end - start).days, 0)
        return start + datetime.timedelta(days=self.rng.randint(0, span))

    # -- reference data and staff --

    def organisations(self) -> None:
        from accounts.data import mie
        from accounts.models import Organisation, Region
        from demo import prefecture
        from demo.prefecture import PARTNERS

        regions = {
            name: Region.objects.get_or_create(name=name, defaults={"sort_order": i})[0]
            for i, name in enumerate(mie.REGIONS)
        }
        self.centre = prefecture.centre(regions)
        self.towns = [
            prefecture.municipality(code, name, regions[region], self.rng)
            for code, name, _kana, _kind, region in mie.MUNICIPALITIES
        ]
        for name, region in PARTNERS:
            Organisation.objects.get_or_create(
                name=name, defaults={"kind": Organisation.Kind.PARTNER, "region": regions[region]}
            )
        self.partners = list(Organisation.objects.filter(kind=Organisation.Kind.PARTNER))
        self.regions = list(regions.values())
        population = self.demo.POPULATION
        # Half the cases at the centre, the rest at the municipal windows by population.
        self.case_weights = {self.centre: sum(population.values())} | {
            t: population.get(t.local_government_code, 10) for t in self.towns
        }
        self.residence_weights = {
            t: population.get(t.local_government_code, 10) for t in self.towns
        }

    def staff(self) -> None:
        from django.contrib.auth.hashers import make_password
        from django.contrib.auth.models import Group

        from accounts.models import User
        from accounts.roles import Role

        hashed = make_password(self.password)
        groups = {role: Group.objects.get(name=role.value) for role in Role}

        def user(username: str, role: Role, org) -> User:
            found = User.objects.filter(username=username).first()
            if found is not None:
                return found
            made = User.objects.create(
                username=username, password=hashed, organisation=org, display_name=username
            )
            made.groups.add(groups[role])
            self.counts["accounts_user"] += 1
            return made

        self.workers: dict[int, list] = {}
        self.supervisors: dict[int, object] = {}
        self.mdt: list = []
        for org in [self.centre, *self.towns]:
            centre = org == self.centre
            prefix = "c" if centre else f"m{org.local_government_code}"
            counsellors = [
                user(f"{prefix}-counsellor{i}", Role.COUNSELLOR, org)
                for i in range(30 if centre else 3)
            ]
            outreach = [
                user(f"{prefix}-outreach{i}", Role.OUTREACH_WORKER, org)
                for i in range(10 if centre else 1)
            ]
            self.workers[org.pk] = counsellors + outreach
            self.supervisors[org.pk] = user(f"{prefix}-supervisor", Role.SUPERVISOR, org)
        self.mdt = [user(f"c-mdt{i}", Role.MDT_MEMBER, self.centre) for i in range(5)]
        # The users the benchmarks sign in as: a centre counsellor (lead worker of a share
        # of the centre's cases, like every counsellor), a supervisor, a statistics viewer.
        self.bench_counsellor = user(BENCH_USERS[0], Role.COUNSELLOR, self.centre)
        self.workers[self.centre.pk].append(self.bench_counsellor)
        user(BENCH_USERS[1], Role.SUPERVISOR, self.centre)
        user(BENCH_USERS[2], Role.STATISTICS_VIEWER, self.centre)
        user("c-auditor", Role.AUDITOR, self.centre)

    # -- the bulk --

    def contacts_per_case(self) -> list[int]:
        """A long tail: most cases have a few contacts, some dozens, a few hundreds."""
        named = round(self.contacts_wanted * (1 - self.demo.ANONYMOUS_SHARE))
        raw = [self.rng.paretovariate(1.6) for _ in range(self.cases_wanted)]
        scale = named / sum(raw)
        counts = [max(1, min(400, round(r * scale))) for r in raw]
        # Adjust so that the total is exact.
        difference = named - sum(counts)
        while difference:
            i = self.rng.randrange(len(counts))
            step = 1 if difference > 0 else -1
            if 1 <= counts[i] + step <= 400:
                counts[i] += step
                difference -= step
        return counts

    def cases(self) -> None:
        from django.contrib.auth.models import Permission
        from django.db import transaction

        self.view_case = Permission.objects.get(
            codename="view_case", content_type__app_label="casework"
        )
        per_case = self.contacts_per_case()
        for start in range(0, self.cases_wanted, CHUNK_CASES):
            with transaction.atomic():
                self.chunk(per_case[start : start + CHUNK_CASES])
            done = min(start + CHUNK_CASES, self.cases_wanted)
            print(
                f"  cases {done:,}/{self.cases_wanted:,}, contacts {self.counts['casework_contact']:,}",
                flush=True,
            )

    def chunk(self, counts: list[int]) -> None:
        """Cases with `counts` contacts each, their extras, and anonymous contacts in
        proportion, built and written together while their data keys are in the cache."""
        from casework.models import CaseUserObjectPermission, Contact

        opened, contacts, grants, extras = [], [], [], []
        for n in counts:
            new = self.new_case()
            case, lead = new.case, new.lead_worker_ids
            last_day = case.closed_on or self.today
            own = []
            for _ in range(n):
                at = self.moment(self.day_after(case.opened_on, last_day))
                own.append(self.contact(case, self.rng.choice(lead), at))
            min(own, key=lambda c: c.occurred_at).kind = Contact.Kind.FIRST
            opened.append(new)
            contacts += own
            extras.append((case, own))
            if case.mdt_supported:
                grants.append(
                    CaseUserObjectPermission(
                        user=self.rng.choice(self.mdt),
                        permission=self.view_case,
                        content_object=case,
                    )
                )
        contacts += self.anonymous(len(contacts))
        self.write_cases(opened)
        self.write_contacts(contacts)
        self.insert(CaseUserObjectPermission, grants)
        self.case_extras(extras)

    def write_cases(self, opened: list) -> None:
        from casework import writers
        from casework.models import Case, Client

        clients = sum(1 for new in opened if new.client is not None)
        leads = sum(len(new.lead_worker_ids) for new in opened)
        history = Case.history.model
        self.timed(
            {
                Case._meta.db_table: len(opened),
                Client._meta.db_table: clients,
                "casework_datakey": len(opened) + clients,
                Case.lead_workers.through._meta.db_table: leads,
                history._meta.db_table: len(opened),
                Client.history.model._meta.db_table: clients,
                history.lead_workers.model._meta.db_table: leads,
            },
            lambda: writers.bulk_open_cases(opened),
        )

    def write_contacts(self, contacts: list) -> None:
        from casework import writers
        from casework.models import Contact

        self.timed(
            {
                Contact._meta.db_table: len(contacts),
                Contact.history.model._meta.db_table: len(contacts),
            },
            lambda: writers.bulk_log_contacts(contacts, year_keys=self.year_keys),
        )

    def new_case(self):
        """A case at an organisation drawn by weight, its person (9 in 10) and lead workers."""
        from casework import writers
        from casework.models import Case

        demo = self.demo
        org = self.rng.choices(list(self.case_weights), weights=list(self.case_weights.values()))[0]
        opened = self.first_day + datetime.timedelta(days=self.rng.randrange(self.days))
        status = weighted(self.rng, demo.STATUSES)
        closed = self.day_after(opened, self.today) if status == Case.Status.CLOSED else None
        client = self.client(org) if self.rng.random() < 0.9 else None
        case = Case(
            id=uuid.uuid4(),
            organisation=org,
            **writers.opening_fields({"status": status, "opened_on": opened, "closed_on": closed}),
            closure_reason=weighted(self.rng, demo.CLOSURE_REASONS) if closed else "",
            withdrawal_band=self.rng.choice(Case.WithdrawalBand.values),
            school_refusal_history=self.rng.random() < 0.3,
            suspected_mental_illness=self.rng.random() < 0.2,
            employment_history=self.rng.random() < 0.5,
            restricted=self.rng.random() < 0.02,
            mdt_supported=self.rng.random() < 0.05,
            summary=self.rng.choice(demo.CASE_NOTES),
            created_at=datetime.datetime.combine(opened, datetime.time(10), tzinfo=self.tz),
        )
        staff = self.workers[org.pk]
        lead = self.rng.sample(staff, 2 if self.rng.random() < 0.2 else 1)
        case.updated_by = lead[0]
        if client is not None:
            client.updated_by = lead[0]
        return writers.NewCase(case, client, lead)

    def client(self, org) -> object:
        from casework.models import Client, Gender

        demo = self.demo
        gender = weighted(self.rng, demo.GENDERS)
        names = demo.MALE_NAMES if gender == Gender.MALE else demo.FEMALE_NAMES
        given, given_kana = self.rng.choice(names)
        low, high = weighted(self.rng, demo.AGE_RANGES)
        birth = datetime.date(self.today.year - self.rng.randint(low, high), 1, 1) + (
            datetime.timedelta(days=self.rng.randrange(365))
        )
        return Client(
            id=uuid.uuid4(),
            organisation=org,
            name=f"デモ {given}",
            name_kana=f"デモ {given_kana}",
            birth_date=birth,
            phone=f"000-0000-{self.rng.randrange(10000):04d}",
            address="デモ町1-2-3",
            gender=gender,
            municipality=self.rng.choices(
                list(self.residence_weights), weights=list(self.residence_weights.values())
            )[0],
            household_8050=self.rng.random() < 0.2,
            lives_alone=self.rng.random() < 0.1,
        )

    def contact(self, case, staff, at) -> object:
        """A contact of `case`; its data key and attribute snapshot are the writer's."""
        from casework.models import Contact

        demo = self.demo
        topics = self.rng.sample(list(demo.TOPICS), k=weighted(self.rng, demo.TOPIC_COUNTS))
        channel = weighted(self.rng, demo.CHANNELS)
        low, high, mode = demo.MINUTES[channel]
        follow_up = self.rng.random() < 0.08
        due = at.date() + datetime.timedelta(days=self.rng.randint(1, 21)) if follow_up else None
        return Contact(
            id=uuid.uuid4(),
            occurred_at=at,
            organisation_id=case.organisation_id,
            staff=staff,
            updated_by=staff,
            case=case,
            channel=channel,
            consulter=weighted(self.rng, demo.CONSULTERS),
            kind=Contact.Kind.CONTINUING,
            minutes=round(self.rng.triangular(low, high, mode)),
            topics=topics,
            referring_organisation=self.rng.choice(self.towns)
            if self.rng.random() < 0.03
            else None,
            summary="【デモ】" + "".join(self.rng.choice(demo.TOPIC_NOTES[t]) for t in topics),
            follow_up=self.rng.choice(demo.FOLLOW_UPS) if follow_up else None,
            follow_up_due=due,
            follow_up_done=bool(due and due < self.today - datetime.timedelta(days=7)),
            created_at=at,
            updated_at=at,
        )

    def anonymous(self, named: int) -> list:
        """Anonymous contacts in proportion to the named ones of this chunk (the caller
        gives their snapshot; the writer their organisation's key for the year)."""
        from casework.models import Contact

        demo = self.demo
        share = demo.ANONYMOUS_SHARE
        wanted = round(named * share / (1 - share))
        rows = []
        orgs = list(self.case_weights)
        weights = list(self.case_weights.values())
        for _ in range(wanted):
            org = self.rng.choices(orgs, weights=weights)[0]
            at = self.moment(
                self.first_day + datetime.timedelta(days=self.rng.randrange(self.days))
            )
            channel = weighted(self.rng, demo.ANONYMOUS_CHANNELS)
            staff = self.rng.choice(self.workers[org.pk])
            rows.append(
                Contact(
                    id=uuid.uuid4(),
                    occurred_at=at,
                    organisation=org,
                    staff=staff,
                    updated_by=staff,
                    channel=channel,
                    consulter=weighted(self.rng, demo.ANONYMOUS_CONSULTERS),
                    kind=Contact.Kind.FIRST,
                    minutes=20,
                    topics=[self.rng.choice(list(demo.TOPICS))],
                    age_band=weighted(self.rng, demo.ANONYMOUS_AGE_BANDS),
                    gender=weighted(self.rng, demo.ANONYMOUS_GENDERS),
                    municipality=self.rng.choice(self.towns) if self.rng.random() < 0.6 else None,
                    summary="【デモ】匿名の電話相談。",
                    created_at=at,
                    updated_at=at,
                )
            )
        return rows

    def run(self) -> None:
        from django.db import connection, transaction

        started = time.perf_counter()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Generated data can be generated again: no need to wait for each commit
                # to reach the disk.
                cursor.execute("SET synchronous_commit TO off")
        with transaction.atomic():
            self.organisations()
            self.staff()
        self.year_keys: dict = {}
        self.referral_share = (self.contacts_wanted / 500) / self.cases_wanted
        with transaction.atomic():
            self.meetings()
            self.programmes()
        self.cases()
        self.seconds["total"] = time.perf_counter() - started
