"""On PostgreSQL, the case list (with its permissions, for a counsellor and a supervisor)
and the dashboard read casework_case and casework_contact through indexes, not by reading
the whole table, once the tables are large enough for the planner to tell the difference.

20,000 cases in 20 organisations and 60,000 contacts go in with INSERT ... SELECT (the
encrypted columns stay empty: no plan depends on them), then ANALYZE.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection

from accounts.roles import Role
from casework import selectors
from casework.filters import CaseFilter
from casework.models import Case, DataKey
from tests.factories import make_organisation, make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

CASES, CONTACTS, ORGANISATIONS = 20_000, 60_000, 20
TABLES = ("casework_case", "casework_contact")


@pytest.fixture
def large():
    orgs = [make_organisation(name=f"組織{i}") for i in range(ORGANISATIONS)]
    counsellor = make_user(Role.COUNSELLOR, organisation=orgs[0])
    supervisor = make_user(Role.SUPERVISOR, organisation=orgs[0])
    key = DataKey.create()
    org_ids = "ARRAY[" + ",".join(str(o.pk) for o in orgs) + "]::bigint[]"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO casework_case (id, code, status, opened_on, restricted, version,
                created_at, organisation_id, data_key_id, closure_reason, employment_history,
                mdt_supported, school_refusal_history, status_changed_on,
                suspected_developmental_disability, suspected_mental_illness, updated_at,
                withdrawal_band, last_contact_at, closed_on)
            SELECT gen_random_uuid(), 'T-' || i,
                   (ARRAY['intake','active','monitoring','closed'])[1 + i %% 4],
                   DATE '2024-04-01' + i %% 700, i %% 50 = 0, 1, now(),
                   ({org_ids})[1 + i %% {ORGANISATIONS}], %s, '', false, false, false,
                   DATE '2024-04-01', false, false, now(), 'unknown',
                   now() - i * interval '7 minutes',
                   CASE WHEN i %% 4 = 3 THEN DATE '2025-04-01' END
            FROM generate_series(1, {CASES}) i;
            INSERT INTO casework_case_lead_workers (case_id, user_id)
            SELECT id, %s FROM casework_case WHERE organisation_id = %s AND code LIKE 'T-%%0';
            INSERT INTO casework_contact (id, version, updated_at, occurred_at, channel,
                consulter, kind, minutes, topics, age_band, gender, follow_up_done,
                follow_up_due, created_at, data_key_id, organisation_id, staff_id, case_id)
            SELECT gen_random_uuid(), 1, now(), now() - i * interval '3 minutes', 'phone',
                   'self', 'continuing', 10, '[]'::jsonb, 'unknown', 'unknown', i %% 3 > 0,
                   CURRENT_DATE + i %% 20, now(), %s, c.organisation_id,
                   CASE WHEN i %% 20 = 0 THEN %s ELSE %s END, c.id
            FROM generate_series(1, {CONTACTS}) i
            JOIN (SELECT id, organisation_id, row_number() OVER () AS n FROM casework_case) c
              ON c.n = 1 + i %% {CASES};
            ANALYZE casework_case; ANALYZE casework_contact; ANALYZE casework_case_lead_workers;
            """,
            [key.pk, counsellor.pk, orgs[0].pk, key.pk, counsellor.pk, supervisor.pk],
        )
    return counsellor, supervisor


def plan(queryset) -> str:
    return queryset.explain()


def count_plan(queryset) -> str:
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN SELECT count(*) FROM ({sql}) AS visible", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def sequential_scans(text: str) -> list[str]:
    pattern = re.compile(rf"Seq Scan on ({'|'.join(TABLES)})\b(?!_)")
    return [line.strip() for line in text.splitlines() if pattern.search(line)]


@pytest.mark.parametrize("who", ["counsellor", "supervisor"])
def test_case_list_page_and_count_use_indexes(large, who):
    user = dict(zip(["counsellor", "supervisor"], large, strict=True))[who]
    cases = selectors.case_list(user)
    counsellor = large[0]  # leads the cases of the first organisation ending in 0
    for params in (
        {},
        {"status": "active"},
        {"worker": str(counsellor.pk)},
        {"no_contact_days": "90"},
        {"status": "active", "no_contact_days": "30"},
    ):
        case_filter = CaseFilter(params, queryset=cases, user=user)
        assert case_filter.is_valid(), case_filter.errors
        filtered = case_filter.qs
        page = plan(filtered[:50])
        assert sequential_scans(page) == [], page
        counting = count_plan(filtered)
        assert sequential_scans(counting) == [], counting


@pytest.mark.parametrize("who", ["counsellor", "supervisor"])
def test_no_contact_for_n_days_is_a_range_of_the_list_index(large, who):
    """The filter and the order share one expression (never contacted = long ago), so the
    page starts at the cut-off in the index instead of skipping the recent cases."""
    user = dict(zip(["counsellor", "supervisor"], large, strict=True))[who]
    case_filter = CaseFilter(
        {"no_contact_days": "90"}, queryset=selectors.case_list(user), user=user
    )
    assert case_filter.is_valid()
    for text in (plan(case_filter.qs[:50]), count_plan(case_filter.qs)):
        conditions = [line for line in text.splitlines() if "Index Cond" in line]
        assert any("COALESCE(last_contact_at" in line for line in conditions), text


@pytest.mark.parametrize("who", ["counsellor", "supervisor"])
def test_dashboard_queries_use_indexes(large, who):
    user = dict(zip(["counsellor", "supervisor"], large, strict=True))[who]
    for queryset in selectors.dashboard_queries(user):
        found = plan(queryset)
        assert sequential_scans(found) == [], found


def test_the_checks_see_a_sequential_scan_when_there_is_one(large):
    """The assertions above can fail: a condition no index covers reads the whole table."""
    assert sequential_scans(count_plan(Case.objects.filter(withdrawal_band="unknown")))


def test_every_session_runs_with_the_settings_the_plans_assume():
    """POSTGRES_SESSION_OPTIONS: no JIT, random reads priced for SSD storage."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
        cursor.execute("SHOW random_page_cost")
        assert float(cursor.fetchone()[0]) == pytest.approx(1.1)


def test_a_counsellors_assigned_cases_are_read_through_the_user_case_index(large):
    """Visibility asks which cases a counsellor leads on every list query: the lead-worker
    table's (user, case) index (migration casework 0013) answers it, not a table scan."""
    counsellor = large[0]
    colleagues = [
        make_user(Role.COUNSELLOR, organisation=counsellor.organisation) for _ in range(9)
    ]
    with connection.cursor() as cursor:
        # Every case led by someone: the counsellor's rows are a small part of the table.
        cursor.execute(
            """
            INSERT INTO casework_case_lead_workers (case_id, user_id)
            SELECT c.id, (%s::bigint[])[1 + (row_number() OVER ()) %% 9]
            FROM casework_case c;
            ANALYZE casework_case_lead_workers;
            """,
            [[colleague.pk for colleague in colleagues]],
        )
    text = plan(selectors.case_list(counsellor)[:50])
    assert "casework_case_lead_workers_user_case" in text, text
    assert "Seq Scan on casework_case_lead_workers" not in text, text
