"""Generate realistic casework data at a given scale, fast, for the benchmarks.

    .venv/bin/python benchmarks/generate.py --cases 100000 --contacts 1000000 \
        --database-url postgres://postgres@127.0.0.1:5432/hk_bench_main --create

Into the database named by --database-url (or DATABASE_URL; PostgreSQL or SQLite), after
migrating it: the Mie regions and municipalities (the seeded ones when present), the centre
and partners; staff at every organisation (counsellors, outreach workers, supervisors, MDT
members, one statistics viewer and one auditor); then, in the demo's proportions, cases
with their clients (about 9 in 10 cases have a registered person), contacts (about 12% of
them anonymous), milestones, outreach visits (the done ones own the contact they logged),
meetings with agenda items, actions and external attendance, MDT object grants, programmes
with sessions and attendance grids, and referrals with their transitions. Spread over the
last three fiscal years, ending now.

Rows go in with `bulk_create`, which calls every field's `pre_save`: identity, summaries
and notes are encrypted as the application encrypts them (each case and each client its
own `DataKey.new()`, a case's contacts, visits, agenda items and referrals under the case's
key, anonymous contacts under their organisation's key for the fiscal year), and the blind
indexes are computed by `BlindIndexField.pre_save`. What `save()` and the services would
set besides is set here: codes (unique), birth years, attribute snapshots, last-contact
times, lead workers. History rows and audit events are not written (the services write
them one by one; no page or report reads them in bulk), which is the one difference from
data entered through the application.

Cases are built in chunks small enough that every data key of a chunk stays in the
process's data-key cache (4,096 entries) while its rows are encrypted.

The keys and the bench users' password are written to --env-file (default
/tmp/hk_bench/<database>.env), which the other benchmarks read to open the same data;
an existing env file is reused, so a second run adds to the same database.
Prints the rows of each table and the seconds taken.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import os
import random
import secrets
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHUNK_CASES = 1500  # cases and clients: two data keys each, within the 4,096-key cache
BATCH = 2000  # rows per INSERT
YEARS = 3  # fiscal years of activity, the current one included
BENCH_USERS = ("bench_counsellor", "bench_supervisor", "bench_statistics")


# --- configuration ---------------------------------------------------------------------------


def default_env_file(database_url: str) -> Path:
    name = Path(urlsplit(database_url).path).name.removesuffix(".sqlite3") or "bench"
    return Path(tempfile.gettempdir()) / "hk_bench" / f"{name}.env"


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        name, _, value = line.partition("=")
        if name:
            values[name] = value
    return values


def configure(database_url: str | None = None, env_file: Path | None = None) -> dict[str, str]:
    """Set up Django for a benchmark database: keys from the env file (made when missing,
    so that data written once can be read by every later benchmark), then migrate."""
    if env_file is None:
        if database_url is None:
            raise SystemExit("give --database-url or --env-file")
        env_file = default_env_file(database_url)
    if env_file.exists():
        values = read_env_file(env_file)
        if database_url and values.get("DATABASE_URL") != database_url:
            raise SystemExit(f"{env_file} belongs to {values.get('DATABASE_URL')}")
    else:
        if database_url is None:
            raise SystemExit(f"{env_file} does not exist")
        values = {
            "DATABASE_URL": database_url,
            "SECRET_KEY": secrets.token_urlsafe(50),
            "FIELD_ENCRYPTION_KEYS": "bench:" + base64.b64encode(os.urandom(32)).decode(),
            "BLIND_INDEX_KEY": base64.b64encode(os.urandom(32)).decode(),
            "BENCH_PASSWORD": secrets.token_urlsafe(16),
        }
        env_file.parent.mkdir(parents=True, exist_ok=True)
        env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        env_file.chmod(0o600)
    for name in ("DATABASE_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY"):
        os.environ[name] = values[name]
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ.setdefault("DEBUG", "false")
    os.environ["TWO_FACTOR_ENFORCED"] = "false"
    # Requests from Django's test client and plain HTTP on loopback.
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
    os.environ.setdefault("STATIC_MANIFEST", "false")
    import config

    # A benchmark process is an operator's script, like a management command: no statement
    # timeouts (the HTTP benchmarks' gunicorn keeps the web requests' bounds).
    config.COMMAND_LINE = True
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    values["ENV_FILE"] = str(env_file)
    # The machine may be shared: say how busy it was, next to the figures.
    print(f"load average (1, 5 min): {os.getloadavg()[0]:.1f}, {os.getloadavg()[1]:.1f}")
    return values


def create_postgres_database(database_url: str) -> None:
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not found:
            admin.execute(f'CREATE DATABASE "{name}"')


# --- distributions (the demo's, casework/demo.py) -----------------------------------------


def weighted(rng: random.Random, weights: dict) -> object:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class Generator:
    def __init__(self, *, cases: int, contacts: int, seed: int, password: str) -> None:
        from casework import demo

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
        started = time.perf_counter()
        model.objects.bulk_create(rows, batch_size=BATCH)
        self.seconds[model._meta.db_table] += time.perf_counter() - started
        self.counts[model._meta.db_table] += len(rows)
        return rows

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
        from accounts.management.commands.seed_demo import PARTNERS
        from accounts.management.commands.seed_demo import Command as Seed
        from accounts.models import Organisation, Region

        regions = {
            name: Region.objects.get_or_create(name=name, defaults={"sort_order": i})[0]
            for i, name in enumerate(mie.REGIONS)
        }
        seed = Seed()
        self.centre = seed._centre(regions)
        self.towns = [
            seed._municipality(code, name, regions[region], self.rng)
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

    def existing_codes(self) -> set[str]:
        from casework.models import Case, Client

        return set(Case.objects.values_list("code", flat=True)) | set(
            Client.objects.values_list("code", flat=True)
        )

    def code(self, prefix: str) -> str:
        from casework.models import new_code

        while True:
            code = new_code(prefix)
            if code not in self.codes:
                self.codes.add(code)
                return code

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

    def meetings(self) -> None:
        from meetings.models import ExternalAttendance, Meeting

        total = self.contacts_wanted // 1000 + 200
        rows = []
        for i in range(total):
            kind = weighted(
                self.rng,
                {
                    Meeting.Kind.MDT_MONTHLY: 40,
                    Meeting.Kind.CASE_CONFERENCE: 45,
                    Meeting.Kind.NETWORK: 15,
                },
            )
            host = (
                self.centre
                if kind == Meeting.Kind.MDT_MONTHLY or i % 3
                else self.rng.choice(self.towns)
            )
            held = self.moment(self.first_day + datetime.timedelta(days=i * self.days // total))
            rows.append(
                Meeting(
                    kind=kind,
                    host=host,
                    held_at=held,
                    legal_basis=Meeting.LegalBasis.SUPPORT_MEETING,
                    status=Meeting.Status.HELD
                    if held < self.now - datetime.timedelta(days=1)
                    else Meeting.Status.PLANNED,
                    created_by=self.supervisors[host.pk],
                )
            )
        self.insert(Meeting, rows)
        if rows[0].pk is None:  # SQLite before 3.35 returns no ids
            rows = list(Meeting.objects.order_by("id"))
        self.meetings_by_org: dict[int, list] = {}
        for meeting in rows:
            self.meetings_by_org.setdefault(meeting.host_id, []).append(meeting)
        self.insert(
            ExternalAttendance,
            [
                ExternalAttendance(
                    meeting=m,
                    organisation_type=self.rng.choice(ExternalAttendance.OrganisationType.values),
                    profession="保健師",
                    count=self.rng.randint(1, 4),
                )
                for m in rows
                for _ in range(2)
            ],
        )
        self.agenda_share = (total * 5) / self.cases_wanted

    def cases(self) -> None:
        from django.contrib.auth.models import Permission
        from django.db import transaction

        from casework.models import Case, CaseUserObjectPermission, Contact, DataKey
        from casework.periods import age_band

        demo = self.demo
        self.codes = self.existing_codes()
        view_case = Permission.objects.get(codename="view_case", content_type__app_label="casework")
        per_case = self.contacts_per_case()
        orgs = list(self.case_weights)
        weights = list(self.case_weights.values())
        for start in range(0, self.cases_wanted, CHUNK_CASES):
            counts = per_case[start : start + CHUNK_CASES]
            keys, clients, cases, leads, contacts, grants = [], [], [], [], [], []
            extras = []  # (case, its contacts) for visits, milestones, meetings, referrals
            for n in counts:
                org = self.rng.choices(orgs, weights=weights)[0]
                key = DataKey.new()
                keys.append(key)
                opened = self.first_day + datetime.timedelta(days=self.rng.randrange(self.days))
                status = weighted(self.rng, demo.STATUSES)
                closed = None
                if status == Case.Status.CLOSED:
                    closed = self.day_after(opened, self.today)
                client = None
                if self.rng.random() < 0.9:
                    client_key = DataKey.new()
                    keys.append(client_key)
                    client = self.client(org, client_key)
                    clients.append(client)
                case = Case(
                    id=uuid.uuid4(),
                    code=self.code("C"),
                    organisation=org,
                    client=client,
                    data_key=key,
                    status=status,
                    opened_on=opened,
                    status_changed_on=closed or opened,
                    closed_on=closed,
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
                cases.append(case)
                staff = self.workers[org.pk]
                lead = self.rng.sample(staff, 2 if self.rng.random() < 0.2 else 1)
                leads += [Case.lead_workers.through(case=case, user=u) for u in lead]
                last_day = closed or self.today
                own = []
                for _ in range(n):
                    day = self.day_after(opened, last_day)
                    at = self.moment(day)
                    own.append(self.contact(case, client, org, self.rng.choice(lead), at, age_band))
                case.last_contact_at = max(c.occurred_at for c in own)
                min(own, key=lambda c: c.occurred_at).kind = Contact.Kind.FIRST
                contacts += own
                extras.append((case, own))
                if case.mdt_supported:
                    grants.append(
                        CaseUserObjectPermission(
                            user=self.rng.choice(self.mdt),
                            permission=view_case,
                            content_object=case,
                        )
                    )
            contacts += self.anonymous(len(contacts))
            with transaction.atomic():
                self.write_chunk(keys, clients, cases, leads, contacts, grants, extras)
            done = min(start + CHUNK_CASES, self.cases_wanted)
            print(
                f"  cases {done:,}/{self.cases_wanted:,}, contacts {self.counts['casework_contact']:,}",
                flush=True,
            )

    def write_chunk(self, keys, clients, cases, leads, contacts, grants, extras) -> None:
        from casework.models import Case, CaseUserObjectPermission, Client, Contact, DataKey

        self.insert(DataKey, keys)
        self.insert(Client, clients)
        self.insert(Case, cases)
        self.insert(Case.lead_workers.through, leads)
        self.insert(Contact, contacts)
        self.insert(CaseUserObjectPermission, grants)
        self.case_extras(extras)

    def client(self, org, key) -> object:
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
            code=self.code("P"),
            organisation=org,
            data_key=key,
            name=f"デモ {given}",
            name_kana=f"デモ {given_kana}",
            birth_date=birth,
            birth_year=birth.year,
            phone=f"000-0000-{self.rng.randrange(10000):04d}",
            address="デモ町1-2-3",
            gender=gender,
            municipality=self.rng.choices(
                list(self.residence_weights), weights=list(self.residence_weights.values())
            )[0],
            household_8050=self.rng.random() < 0.2,
            lives_alone=self.rng.random() < 0.1,
        )

    def contact(self, case, client, org, staff, at, age_band) -> object:
        from casework.models import Contact

        demo = self.demo
        topics = self.rng.sample(list(demo.TOPICS), k=weighted(self.rng, demo.TOPIC_COUNTS))
        channel = weighted(self.rng, demo.CHANNELS)
        low, high, mode = demo.MINUTES[channel]
        follow_up = self.rng.random() < 0.08
        due = at.date() + datetime.timedelta(days=self.rng.randint(1, 21)) if follow_up else None
        return Contact(
            id=uuid.uuid4(),
            version=1,
            occurred_at=at,
            organisation=org,
            staff=staff,
            case=case,
            data_key_id=case.data_key_id,
            channel=channel,
            consulter=weighted(self.rng, demo.CONSULTERS),
            kind=Contact.Kind.CONTINUING,
            minutes=round(self.rng.triangular(low, high, mode)),
            topics=topics,
            referring_organisation=self.rng.choice(self.towns)
            if self.rng.random() < 0.03
            else None,
            age_band=age_band(client.birth_year if client else None, at.date()),
            gender=client.gender if client else "unknown",
            municipality_id=client.municipality_id if client else None,
            summary="【デモ】" + "".join(self.rng.choice(demo.TOPIC_NOTES[t]) for t in topics),
            follow_up=self.rng.choice(demo.FOLLOW_UPS) if follow_up else None,
            follow_up_due=due,
            follow_up_done=bool(due and due < self.today - datetime.timedelta(days=7)),
            created_at=at,
            updated_at=at,
        )

    def anonymous(self, named: int) -> list:
        """Anonymous contacts in proportion to the named ones of this chunk."""
        from casework.models import Contact, DataKey

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
            year = self.fiscal_year(timezone_date(at, self.tz))
            key = self.year_keys.get((org.pk, year))
            if key is None:
                key = self.year_keys[(org.pk, year)] = DataKey.for_organisation_year(org.pk, year)
            channel = weighted(self.rng, demo.ANONYMOUS_CHANNELS)
            rows.append(
                Contact(
                    id=uuid.uuid4(),
                    occurred_at=at,
                    organisation=org,
                    staff=self.rng.choice(self.workers[org.pk]),
                    data_key_id=key.pk,
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

    def case_extras(self, extras: list) -> None:
        """Milestones, visits, agenda items and actions, referrals of one chunk of cases,
        while their data keys are in the cache."""
        from casework.models import Channel, Milestone
        from meetings.models import ActionItem, AgendaItem
        from outreach.models import Visit
        from referrals.models import Referral, ReferralTransition

        demo = self.demo
        milestones, visits, workers, items, actions, referrals, moves = [], [], [], [], [], [], []
        for case, contacts in extras:
            lead = contacts[0].staff
            if self.rng.random() < 0.2:
                kind = weighted(self.rng, demo.MILESTONES)
                milestones.append(
                    Milestone(
                        id=uuid.uuid4(),
                        case=case,
                        data_key_id=case.data_key_id,
                        kind=kind,
                        achieved_on=self.day_after(case.opened_on, self.today),
                        note=demo.MILESTONE_NOTES[kind],
                        recorded_by=lead,
                    )
                )
            for contact in contacts:
                if contact.channel in (Channel.HOME_VISIT, Channel.ACCOMPANIMENT) and (
                    self.rng.random() < 0.07
                ):
                    visit = Visit(
                        id=uuid.uuid4(),
                        case=case,
                        organisation_id=case.organisation_id,
                        data_key_id=case.data_key_id,
                        kind=contact.channel,
                        destination=Visit.Destination.HOME,
                        planned_start=contact.occurred_at,
                        status=Visit.Status.DONE,
                        started_at=contact.occurred_at,
                        checkin_due_at=contact.occurred_at + datetime.timedelta(hours=2),
                        checked_in_at=contact.occurred_at + datetime.timedelta(minutes=90),
                        checked_in_by=contact.staff,
                        outcome=self.rng.choice(Visit.Outcome.values),
                        travel_minutes=self.rng.randint(10, 60),
                        notes="【デモ】訪問の記録。",
                        contact=contact,
                        created_by=contact.staff,
                    )
                    visits.append(visit)
                    workers.append(Visit.workers.through(visit=visit, user=contact.staff))
            meetings = self.meetings_by_org.get(case.organisation_id)
            if meetings and self.rng.random() < self.agenda_share:
                meeting = self.rng.choice(meetings)
                item = AgendaItem(
                    id=uuid.uuid4(),
                    meeting=meeting,
                    case=case,
                    data_key_id=case.data_key_id,
                    reason="定例の見直し",
                    question="【デモ】今後の支援方針について",
                    decisions="【デモ】月1回の訪問を続ける。",
                    next_review_on=meeting.held_at.date() + datetime.timedelta(days=90),
                    review_closed_at=meeting.held_at if meeting.status == "held" else None,
                )
                items.append(item)
                if self.rng.random() < 0.5:
                    actions.append(
                        ActionItem(
                            id=uuid.uuid4(),
                            agenda_item=item,
                            case=case,
                            data_key_id=case.data_key_id,
                            description="【デモ】関係機関に連絡する。",
                            assignee=lead,
                            due_on=meeting.held_at.date() + datetime.timedelta(days=14),
                            done_at=meeting.held_at + datetime.timedelta(days=7)
                            if meeting.held_at < self.now - datetime.timedelta(days=7)
                            else None,
                        )
                    )
            if self.rng.random() < self.referral_share:
                referrals.append(self.referral(case, lead, Referral, ReferralTransition, moves))
        self.insert(Milestone, milestones)
        self.insert(Visit, visits)
        self.insert(Visit.workers.through, workers)
        self.insert(AgendaItem, items)
        self.insert(ActionItem, actions)
        self.insert(Referral, referrals)
        self.insert(ReferralTransition, moves)

    def referral(self, case, lead, Referral, ReferralTransition, moves) -> object:
        status = weighted(
            self.rng,
            {
                Referral.Status.SENT: 15,
                Referral.Status.ACCEPTED: 25,
                Referral.Status.DECLINED: 5,
                Referral.Status.COMPLETED: 45,
                Referral.Status.WITHDRAWN: 5,
                Referral.Status.DRAFT: 5,
            },
        )
        target = self.rng.choice(
            [o for o in [*self.towns, *self.partners, self.centre] if o.pk != case.organisation_id]
        )
        sent = None
        if status != Referral.Status.DRAFT:
            sent = self.moment(self.day_after(case.opened_on, self.today))
        referral = Referral(
            id=uuid.uuid4(),
            case=case,
            data_key_id=case.data_key_id,
            from_organisation_id=case.organisation_id,
            to_organisation=target,
            kind=self.rng.choice(Referral.Kind.values),
            purpose="【デモ】居住地での継続支援のため。",
            status=status,
            consent_given=True,
            consent_on=case.opened_on,
            consent_method=Referral.ConsentMethod.WRITTEN,
            share_summary=True,
            created_by=lead,
            sent_at=sent,
            responded_at=sent + datetime.timedelta(days=3)
            if sent and status not in (Referral.Status.SENT, Referral.Status.WITHDRAWN)
            else None,
        )
        path = {
            "draft": [],
            "sent": ["sent"],
            "accepted": ["sent", "accepted"],
            "declined": ["sent", "declined"],
            "completed": ["sent", "accepted", "completed"],
            "withdrawn": ["sent", "withdrawn"],
        }[status]
        previous = "draft"
        for step in path:
            moves.append(
                ReferralTransition(
                    referral=referral, from_status=previous, to_status=step, by=lead, at=sent
                )
            )
            previous = step
        return referral

    def programmes(self) -> None:
        from outreach.models import Attendance, ParticipantType, Programme, Session

        programmes = []
        for i in range(60):
            host = self.towns[i % len(self.towns)]
            programmes.append(
                Programme(
                    kind=Programme.Kind.values[i % len(Programme.Kind.values)],
                    name=f"デモ教室{i}",
                    organiser=self.centre if i % 2 == 0 else host,
                    host_municipality=host,
                    region=host.region,
                )
            )
        self.insert(Programme, programmes)
        if programmes[0].pk is None:
            programmes = list(Programme.objects.order_by("-id")[:60])
        total = self.contacts_wanted // 333
        sessions = [
            Session(
                programme=programmes[i % len(programmes)],
                held_on=self.first_day + datetime.timedelta(days=i * self.days // max(total, 1)),
                theme="デモ",
            )
            for i in range(total)
        ]
        self.insert(Session, sessions)
        if sessions and sessions[0].pk is None:
            sessions = list(Session.objects.order_by("-id")[:total])
        self.insert(
            Attendance,
            [
                Attendance(
                    session=s,
                    participant_type=kind,
                    residence=self.rng.choice(self.towns)
                    if kind != ParticipantType.OTHER
                    else None,
                    count=self.rng.randint(1, 6),
                )
                for s in sessions
                for kind in ParticipantType.values
            ],
        )

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


def ensure_plan():
    """The benchmarks' plan: the centre's, one indicator per registered metric, with
    targets for the current fiscal year (made once, then reused)."""
    from django.utils import timezone

    from accounts.models import Organisation
    from casework.periods import fiscal_year
    from indicators import metrics
    from indicators.models import Direction, Indicator, Plan, Target

    year = fiscal_year(timezone.localdate())
    centre = Organisation.objects.filter(kind=Organisation.Kind.PREFECTURE_CENTRE).first()
    plan = Plan.objects.filter(name="bench", organisation=centre).first()
    if plan is not None:
        return plan
    plan = Plan.objects.create(
        name="bench", organisation=centre, first_year=year - 2, last_year=year + 2
    )
    direction = Direction.objects.create(plan=plan, number=1, name="all")
    for i, key in enumerate(metrics.REGISTRY):
        indicator = Indicator.objects.create(
            direction=direction, code=str(i), name=key, unit="件", metric=key
        )
        Target.objects.create(indicator=indicator, fiscal_year=year, value=100)
    return plan


def timezone_date(at: datetime.datetime, tz) -> datetime.date:
    return at.astimezone(tz).date()


def analyze() -> float:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        # Bulk-loaded tables: statistics for the planner, and the visibility map that lets
        # index-only scans skip the table (autovacuum would do both, later).
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--env-file", type=Path)
    parser.add_argument(
        "--create", action="store_true", help="create the PostgreSQL database if missing"
    )
    args = parser.parse_args()
    if args.database_url is None:
        raise SystemExit("give --database-url or set DATABASE_URL")
    if args.create and args.database_url.startswith("postgres"):
        create_postgres_database(args.database_url)
    values = configure(args.database_url, args.env_file or default_env_file(args.database_url))
    from django.db import connection

    print(
        f"generating {args.cases:,} cases and {args.contacts:,} contacts into "
        f"{connection.vendor} {connection.settings_dict['NAME']} (env: {values['ENV_FILE']})"
    )
    generator = Generator(
        cases=args.cases, contacts=args.contacts, seed=args.seed, password=values["BENCH_PASSWORD"]
    )
    generator.run()
    analyzed = analyze()
    print(f"{'table':<40}{'rows':>12}{'insert s':>10}")
    for table, rows in sorted(generator.counts.items()):
        print(f"{table:<40}{rows:>12,}{generator.seconds[table]:>10.1f}")
    print(f"total {generator.seconds['total']:.0f} s (+ VACUUM ANALYZE {analyzed:.1f} s)")


if __name__ == "__main__":
    main()
