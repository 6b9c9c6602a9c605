"""Benchmark: a whole fiscal-year progress report against one hand-written SQL pass.

Fills a fresh PostgreSQL database with 1,000,000 contacts (default) and, in the demo's
proportions, 100,000 clients and cases, 20,000 milestones, 10,000 outreach visits, 1,200
meetings with 6,000 agenda items, 3,000 programme sessions with 12,000 attendance rows and
2,000 referrals, spread over three fiscal years. Rows go in with INSERT ... SELECT over
generate_series: encrypted columns stay empty, since no count reads them.

Then it times (median of --repeat runs, warm cache; once with the server's defaults and
once with JIT off for the session, since the one big hand-written statement otherwise
spends longer in JIT compilation than in running):
  * the application's path: `progress_report` of a plan with one indicator per registered
    metric (current year as of 31 December, two prior years), which issues one aggregate
    query per source table through the ORM and builds the table;
  * one hand-written SQL statement computing the same figures (conditional aggregation,
    one sub-select per table), written directly below;
and checks that both give the same figures before printing the times and their ratio.

Usage:  .venv/bin/python benchmarks/indicators_report.py [--contacts 1000000]
          [--server-url postgres://postgres@127.0.0.1:5432/postgres] [--keep]
A database named hikikomori_bench_<pid> is created on that server and dropped afterwards
(unless --keep). Keys are generated for the run.

Or, on a database made by benchmarks/generate.py (realistic distributions, encrypted
columns filled), for the current fiscal year as of today:
        .venv/bin/python benchmarks/indicators_report.py --env-file /tmp/hk_bench/<db>.env
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from _common import plan_with_every_metric, timed
from django_setup import configure

YEAR = 2025
AS_OF = datetime.date(2025, 12, 31)


FILLED_TABLES = [
    "casework_contact",
    "casework_case",
    "casework_milestone",
    "outreach_visit",
    "meetings_meeting",
    "meetings_agendaitem",
    "outreach_session",
    "outreach_attendance",
    "referrals_referral",
]


@dataclass(frozen=True)
class Fill:
    """What the INSERT ... SELECT statements are written with: the ids made through the
    ORM (as SQL literals) and the sizes."""

    centre: int
    staff: int
    key: str
    first_region: int
    org_array: str  # the centre and the towns, as an SQL array
    town_array: str
    contacts: int
    cases: int
    start: str = "'2023-04-01 09:00+09'::timestamptz"


def organisations(contacts: int) -> Fill:
    """Regions, the centre, 29 towns (with their readiness dates), a staff member and a
    data key, through the ORM."""
    from accounts.models import Organisation, Region, User, local_government_code_check_digit
    from casework.models import DataKey

    regions = [Region.objects.create(name=f"圏域{i}", sort_order=i) for i in range(5)]
    centre = Organisation.objects.create(kind="prefecture_centre", name="センター")
    towns = []
    for i in range(29):
        five = f"{24000 + i * 7:05d}"
        towns.append(
            Organisation.objects.create(
                kind="municipality",
                name=f"市町{i}",
                local_government_code=five + local_government_code_check_digit(five),
                region=regions[i % 5],
                consultation_window_established_on=datetime.date(2023 + i % 4, 4 + i % 9, 1),
                platform_established_on=datetime.date(2024 + i % 3, 1 + i % 12, 1)
                if i % 2
                else None,
            )
        )
    staff = User.objects.create(username="bench", organisation=centre)
    orgs = [centre.pk, *[t.pk for t in towns]]
    return Fill(
        centre=centre.pk,
        staff=staff.pk,
        key=str(DataKey.create().id),
        first_region=regions[0].pk,
        org_array="ARRAY[" + ",".join(map(str, orgs)) + "]::bigint[]",
        town_array="ARRAY[" + ",".join(str(t.pk) for t in towns) + "]::bigint[]",
        contacts=contacts,
        cases=max(contacts // 10, 100),
    )


def cases_sql(f: Fill) -> str:
    return f"""
    CREATE TEMP TABLE bench_case (n int PRIMARY KEY, id uuid, client uuid, org bigint);
    INSERT INTO bench_case
      SELECT i, gen_random_uuid(), gen_random_uuid(),
             CASE WHEN i % 4 = 0 THEN ({f.org_array})[2 + i % 29] ELSE {f.centre} END
      FROM generate_series(1, {f.cases}) i;
    INSERT INTO casework_client (id, code, gender, created_at, organisation_id, data_key_id,
        household_8050, lives_alone, updated_at, version, birth_year, municipality_id)
      SELECT client, 'BK' || n, CASE n % 3 WHEN 0 THEN 'male' WHEN 1 THEN 'female' ELSE 'unknown' END,
             now(), org, '{f.key}', false, false, now(), 1, 1960 + n % 45,
             CASE WHEN n % 20 = 0 THEN NULL ELSE ({f.town_array})[1 + n % 29] END
      FROM bench_case;
    INSERT INTO casework_case (id, code, status, opened_on, restricted, version, created_at,
        organisation_id, data_key_id, closure_reason, employment_history, mdt_supported,
        school_refusal_history, status_changed_on, suspected_developmental_disability,
        suspected_mental_illness, updated_at, withdrawal_band, client_id)
      SELECT id, 'B' || n, 'active', DATE '2023-04-01' + (n * 1096 / {f.cases}), false, 1, now(),
             org, '{f.key}', '', false, false, false, DATE '2023-04-01', false, false, now(),
             'unknown', CASE WHEN n % 50 = 0 THEN NULL ELSE client END
      FROM bench_case;
    """


def contacts_sql(f: Fill) -> str:
    """Contacts, milestones, and a visit for some of the home-visit contacts."""
    return f"""
    INSERT INTO casework_contact (id, version, updated_at, occurred_at, channel, consulter, kind,
        minutes, topics, age_band, gender, follow_up_done, created_at, data_key_id,
        organisation_id, staff_id, case_id, municipality_id, referring_organisation_id)
      SELECT gen_random_uuid(), 1, now(),
             {f.start} + (i::double precision * 1096 / {f.contacts}) * interval '1 day'
                     + (i % 10) * interval '1 hour',
             (ARRAY['phone','centre_visit','home_visit','email','online','accompaniment'])[1 + i % 6],
             (ARRAY['self','parent','parent','sibling','agency','other'])[1 + (i / 7) % 6],
             CASE WHEN i % 9 = 0 THEN 'first' ELSE 'continuing' END,
             30, '[]'::jsonb,
             (ARRAY['u20','20s','30s','40s','50s','60p','unknown'])[1 + i % 7],
             CASE i % 3 WHEN 0 THEN 'male' WHEN 1 THEN 'female' ELSE 'unknown' END,
             true, now(), '{f.key}',
             c.org, {f.staff},
             CASE WHEN i % 7 = 0 THEN NULL ELSE c.id END,
             ({f.town_array})[1 + i % 29],
             CASE WHEN (i / 7) % 6 = 4 THEN ({f.org_array})[1 + i % 30] END
      FROM generate_series(1, {f.contacts}) i
      JOIN bench_case c ON c.n = 1 + (i % {f.cases});
    INSERT INTO casework_milestone (id, kind, achieved_on, created_at, case_id, data_key_id,
        recorded_by_id)
      SELECT gen_random_uuid(),
             (ARRAY['ibasho','intermediate_work','employed','welfare_service','medical_care'])[1 + i % 5],
             DATE '2023-04-01' + (i * 1096 / {f.cases // 5}) % 1096, now(),
             c.id, '{f.key}', {f.staff}
      FROM generate_series(1, {f.cases // 5}) i JOIN bench_case c ON c.n = 1 + (i * 7) % {f.cases};
    INSERT INTO outreach_visit (id, kind, destination, planned_start, status, outcome,
        travel_minutes, created_at, case_id, created_by_id, data_key_id, organisation_id,
        contact_id)
      SELECT gen_random_uuid(), CASE WHEN rn % 3 = 0 THEN 'accompaniment' ELSE 'home_visit' END,
             'home', occurred_at, CASE WHEN rn % 10 = 0 THEN 'cancelled' ELSE 'done' END, '', 20,
             now(), case_id, {f.staff}, '{f.key}', organisation_id,
             CASE WHEN rn % 10 = 0 THEN NULL ELSE id END
      FROM (SELECT id, case_id, organisation_id, occurred_at, row_number() OVER () rn
            FROM casework_contact WHERE channel = 'home_visit' AND case_id IS NOT NULL
            LIMIT {f.contacts // 100}) v;
    """


def meetings_sql(f: Fill) -> str:
    """Meetings with their agenda, programmes with sessions and attendance."""
    return f"""
    INSERT INTO meetings_meeting (kind, held_at, place, online, legal_basis, status, created_at,
        created_by_id, host_id, unregistered_cases_discussed)
      SELECT (ARRAY['mdt_monthly','case_conference','network'])[1 + i % 3],
             {f.start} + (i * 1096 / {f.contacts // 1000 + 200}) * interval '1 day', '', false,
             'support_meeting', CASE WHEN i % 8 = 0 THEN 'planned' ELSE 'held' END, now(),
             {f.staff}, CASE WHEN i % 3 = 1 THEN ({f.org_array})[1 + i % 30] ELSE {f.centre} END,
             0
      FROM generate_series(1, {f.contacts // 1000 + 200}) i;
    INSERT INTO meetings_agendaitem (id, reason, take_on_mdt, created_at, case_id, data_key_id,
        meeting_id)
      SELECT gen_random_uuid(), '', false, now(), c.id, '{f.key}', m.id
      FROM meetings_meeting m CROSS JOIN generate_series(1, 5) k
      JOIN bench_case c ON c.n = 1 + (m.id * 5 + k) % {f.cases};
    INSERT INTO outreach_programme (kind, name, is_active, organiser_id, host_municipality_id,
        region_id)
      SELECT (ARRAY['family_class','family_meeting','ibasho','online_ibasho','lecture',
                    'supporter_training'])[1 + i % 6], 'P' || i, true,
             CASE WHEN i % 2 = 0 THEN {f.centre} ELSE ({f.town_array})[1 + i % 29] END,
             ({f.town_array})[1 + i % 29], {f.first_region} + i % 5
      FROM generate_series(1, 60) i;
    INSERT INTO outreach_session (held_on, theme, venue, online, programme_id)
      SELECT DATE '2023-04-01' + (i * 1096 / {f.contacts // 333}), '', '', false, p.id
      FROM generate_series(1, {f.contacts // 333}) i
      JOIN outreach_programme p ON p.name = 'P' || (1 + i % 60);
    INSERT INTO outreach_attendance (participant_type, count, session_id, residence_id)
      SELECT (ARRAY['self','family','supporter','other'])[k], 1 + (s.id + k) % 6, s.id,
             CASE WHEN k = 4 THEN NULL ELSE ({f.town_array})[1 + (s.id + k) % 29] END
      FROM outreach_session s CROSS JOIN generate_series(1, 4) k;
    """


def referrals_sql(f: Fill) -> str:
    return f"""
    INSERT INTO referrals_referral (id, kind, status, consent_given, consent_method,
        share_basic_profile, share_summary, share_contacts, share_meeting_decisions, created_at,
        case_id, created_by_id, data_key_id, from_organisation_id, to_organisation_id, sent_at)
      SELECT gen_random_uuid(),
             (ARRAY['residence','cross_municipality','medical','employment','ibasho'])[1 + i % 5],
             (ARRAY['sent','accepted','declined','completed','withdrawn','draft'])[1 + i % 6],
             true, 'written', false, true, false, false, now(), c.id, {f.staff}, '{f.key}',
             {f.centre}, ({f.town_array})[1 + i % 29],
             CASE WHEN i % 6 = 5 THEN NULL
                  ELSE {f.start} + (i * 1096 / {f.contacts // 500}) * interval '1 day' END
      FROM generate_series(1, {f.contacts // 500}) i JOIN bench_case c ON c.n = 1 + (i * 11) % {f.cases};
    """


def fill(contacts: int) -> dict[str, int]:
    """Organisations through the ORM; the bulk through INSERT ... SELECT."""
    from django.db import connection

    f = organisations(contacts)
    with connection.cursor() as cursor:
        cursor.execute(cases_sql(f) + contacts_sql(f) + meetings_sql(f) + referrals_sql(f))
        cursor.execute("ANALYZE")
    return table_counts(FILLED_TABLES)


def table_counts(tables: list[str]) -> dict[str, int]:
    from django.db import connection

    counts = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    return counts


def make_plan():
    from accounts.models import Organisation

    centre = Organisation.objects.get(kind="prefecture_centre")
    return plan_with_every_metric(centre, 2023, 2027, YEAR)


# The hand-written pass: the same figures, written as SQL. Each metric: (table alias, the
# condition on its rows, the measured expression, and the date column or an as-of rule).
HAND = {
    "contacts": ("ct", "TRUE", "count(*)", "ct.occurred_at"),
    "municipal_staff_consultations": (
        "ct",
        "ct.consulter = 'agency' AND ro.kind = 'municipality'",
        "count(*)",
        "ct.occurred_at",
    ),
    "people_supported": (
        "ct",
        "ct.case_id IS NOT NULL",
        "count(DISTINCT coalesce(cc.client_id, cc.id))",
        "ct.occurred_at",
    ),
    "new_consultations": ("cs", "TRUE", "count(*)", "cs.opened_on"),
    "outreach_contacts": ("vi", "TRUE", "count(*)", "vc.occurred_at"),
    "mdt_cases": ("ai", "TRUE", "count(DISTINCT ai.case_id)", "am.held_at"),
    "meetings_held": ("mt", "TRUE", "count(*)", "mt.held_at"),
    "case_conference_municipalities": (
        "mt",
        "mt.kind = 'case_conference' AND mh.kind = 'municipality'",
        "count(DISTINCT mt.host_id)",
        "mt.held_at",
    ),
    "programme_sessions": ("se", "TRUE", "count(*)", "se.held_on"),
    "programme_attendance": ("at", "TRUE", "sum(at.count)", "ss.held_on"),
    "cross_municipality_use": (
        "at",
        "at.residence_id IS NOT NULL AND sp.host_municipality_id IS NOT NULL "
        "AND at.residence_id <> sp.host_municipality_id",
        "sum(at.count)",
        "ss.held_on",
    ),
    "referrals": ("rf", "TRUE", "count(*)", "rf.sent_at"),
    "support_connections": (
        "ms",
        "ms.kind = 'ibasho'",
        "count(DISTINCT ms.case_id)",
        "ms.achieved_on",
    ),
    "employment_after_intermediate_work": (
        "ms",
        "ms.kind = 'employed' AND EXISTS (SELECT 1 FROM casework_milestone e "
        "WHERE e.case_id = ms.case_id AND e.kind = 'intermediate_work' "
        "AND e.achieved_on <= ms.achieved_on)",
        "count(DISTINCT ms.case_id)",
        "ms.achieved_on",
    ),
    "municipal_readiness": ("og", "TRUE", "count(*)", "og.consultation_window_established_on"),
}
FROM = {
    "ct": "casework_contact ct LEFT JOIN accounts_organisation ro "
    "ON ro.id = ct.referring_organisation_id LEFT JOIN casework_case cc ON cc.id = ct.case_id",
    "cs": "casework_case cs WHERE cs.merged_into_id IS NULL",
    "vi": "outreach_visit vi JOIN casework_contact vc ON vc.id = vi.contact_id "
    "WHERE vi.status = 'done'",
    "ai": "meetings_agendaitem ai JOIN meetings_meeting am ON am.id = ai.meeting_id "
    "WHERE am.status = 'held' AND am.kind = 'mdt_monthly'",
    "mt": "meetings_meeting mt JOIN accounts_organisation mh ON mh.id = mt.host_id "
    "WHERE mt.status = 'held'",
    "se": "outreach_session se",
    "at": "outreach_attendance at JOIN outreach_session ss ON ss.id = at.session_id "
    "JOIN outreach_programme sp ON sp.id = ss.programme_id",
    "rf": "referrals_referral rf WHERE rf.sent_at IS NOT NULL",
    "ms": "casework_milestone ms JOIN casework_case mc ON mc.id = ms.case_id "
    "WHERE mc.merged_into_id IS NULL",
    "og": "accounts_organisation og WHERE og.kind = 'municipality' AND og.is_active",
}
TIMESTAMPS = {"ct.occurred_at", "vc.occurred_at", "am.held_at", "mt.held_at", "rf.sent_at"}


def hand_sql(periods: dict[int, tuple[datetime.date, datetime.date]]) -> tuple[str, list]:
    """One statement; per table, a sub-query for the plain counts and one for the distinct
    counts (as the application does), cross-joined. Returns the SQL and the figure keys in
    the order of the flattened result."""
    groups: dict[str, list[str]] = {}
    keys: dict[str, list] = {}
    for key, (alias, condition, measure, date) in HAND.items():
        group = f"{alias}_d" if "DISTINCT" in measure else alias
        for year, (start, end) in periods.items():
            if key == "municipal_readiness":
                when = f"{date} <= DATE '{end}'"
            elif date in TIMESTAMPS:
                when = (
                    f"{date} >= TIMESTAMPTZ '{start} 00:00+09' "
                    f"AND {date} < TIMESTAMPTZ '{end + datetime.timedelta(days=1)} 00:00+09'"
                )
            else:
                when = f"{date} BETWEEN DATE '{start}' AND DATE '{end}'"
            groups.setdefault(group, []).append(
                f"coalesce({measure} FILTER (WHERE {condition} AND {when}), 0)"
            )
            keys.setdefault(group, []).append((key, year))
    # Aggregates in FROM-clause sub-queries (one row each): PostgreSQL may run each with
    # parallel workers, which it does not do for scalar sub-selects in the select list.
    parts = [
        f"(SELECT ARRAY[{', '.join(exprs)}] AS v_{group} FROM {FROM[group.removesuffix('_d')]}) AS t_{group}"
        for group, exprs in groups.items()
    ]
    selected = ", ".join(f"v_{group}" for group in groups)
    order = [k for group in groups for k in keys[group]]
    return f"SELECT {selected} FROM " + " CROSS JOIN ".join(parts), order


def show(label: str, app_seconds: float, hand_seconds: float, repeat: int) -> None:
    print(f"{label}:")
    print(f"  application report: {app_seconds * 1000:.0f} ms (median of {repeat})")
    print(f"  hand-written SQL:   {hand_seconds * 1000:.0f} ms (median of {repeat})")
    print(f"  ratio application / hand-written: {app_seconds / hand_seconds:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--server-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--env-file", type=Path, help="a database made by generate.py")
    args = parser.parse_args()
    if args.env_file:
        run_on_generated(args.env_file, args.repeat)
        return

    import psycopg

    name = f"hikikomori_bench_{os.getpid()}"
    with psycopg.connect(args.server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(args.server_url)
    try:
        configure(urlunsplit(parts._replace(path=f"/{name}")))
        started = time.perf_counter()
        counts = fill(args.contacts)
        plan = make_plan()
        print(f"data: {', '.join(f'{k} {v:,}' for k, v in counts.items())}")
        print(f"filled in {time.perf_counter() - started:.0f} s")

        compare(plan, args.repeat)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            with psycopg.connect(args.server_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


def run_on_generated(env_file: Path, repeat: int) -> None:
    global YEAR, AS_OF
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from generate import configure as configure_generated
    from generate import ensure_plan

    configure_generated(env_file=env_file)
    from django.utils import timezone

    from casework.periods import fiscal_year

    AS_OF = timezone.localdate()
    YEAR = fiscal_year(AS_OF)
    plan = ensure_plan()
    counts = table_counts(
        [
            "casework_contact",
            "casework_case",
            "outreach_visit",
            "meetings_meeting",
            "meetings_agendaitem",
            "outreach_session",
            "referrals_referral",
        ]
    )
    print(f"data (generate.py): {', '.join(f'{k} {v:,}' for k, v in counts.items())}")
    compare(plan, repeat)


def compare(plan, repeat: int) -> None:
    from django.db import connection

    from indicators.periods import Period
    from indicators.reports import progress_report

    periods = {
        year: ((p := Period.fiscal(year, AS_OF if year == YEAR else None)).start, p.end)
        for year in (YEAR - 2, YEAR - 1, YEAR)
    }
    sql, keys = hand_sql(periods)

    def by_hand() -> dict:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            row = cursor.fetchone()
        flat = [int(v) for array in row for v in array]
        return dict(zip(keys, flat, strict=True))

    def by_app() -> dict:
        report = progress_report(plan, year=YEAR, as_of=AS_OF, exact=True)
        report.table()
        return {
            (row.indicator.metric, year): int(figure.value)
            for row in report.rows
            for year, figure in [*row.prior, (YEAR, row.actual)]
        }

    app_seconds, app_figures = timed(by_app, repeat)
    hand_seconds, hand_figures = timed(by_hand, repeat)
    wrong = {
        k: (app_figures[k], hand_figures[k])
        for k in hand_figures
        if app_figures[k] != hand_figures[k]
    }
    if wrong:
        raise SystemExit(f"figures differ (app, hand): {wrong}")
    print(f"figures: {len(app_figures)} (15 metrics x 3 years), identical in both passes")
    print(f"contacts FY{YEAR} to {AS_OF}: {app_figures[('contacts', YEAR)]:,}")
    show("application settings (POSTGRES_SESSION_OPTIONS)", app_seconds, hand_seconds, repeat)
    # The single hand-written statement is costly enough for PostgreSQL's JIT to
    # inline and optimise it, which takes longer than running it; compare without JIT
    # as well, so that the hand-written pass is at its best.
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    app_seconds, _ = timed(by_app, repeat)
    hand_seconds, _ = timed(by_hand, repeat)
    show("JIT off (session)", app_seconds, hand_seconds, repeat)
    with connection.cursor() as cursor:
        cursor.execute("RESET jit")


if __name__ == "__main__":
    main()
