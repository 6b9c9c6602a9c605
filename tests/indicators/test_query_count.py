"""A whole report costs the same number of queries with 10 contacts as with 1,000."""

from __future__ import annotations

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext

from casework.models import Contact
from indicators import metrics
from indicators.models import Direction, Indicator, Plan, Target
from indicators.periods import Period
from indicators.reports import metric_breakdown, progress_report

from .conftest import at

YEAR = 2025


def _plan_with_every_metric(world) -> Plan:
    plan = Plan.objects.create(
        name="全集計項目", organisation=world.centre, first_year=2024, last_year=2026
    )
    direction = Direction.objects.create(plan=plan, number=1, name="方向")
    for i, key in enumerate(metrics.REGISTRY):
        indicator = Indicator.objects.create(
            direction=direction,
            code=str(i),
            name=key,
            unit="件",
            metric=key,
            accumulation="cumulative" if i % 2 else "annual",
            organisation=world.town if i == 3 else None,  # one indicator with its own scope
        )
        Target.objects.create(indicator=indicator, fiscal_year=YEAR, value=10)
    manual = Indicator.objects.create(direction=direction, code="m", name="手入力", unit="人")
    Target.objects.create(indicator=manual, fiscal_year=YEAR, value=5)
    return plan


def _add_contacts(world, n: int) -> None:
    cases = [world.case() for _ in range(5)]
    Contact.objects.bulk_create(
        Contact(
            organisation=world.centre,
            staff=world.counsellor,
            case=cases[i % 5],
            occurred_at=at(YEAR, 4 + i % 9, 1 + i % 28),
            data_key=cases[i % 5].data_key,
            channel=["phone", "email", "centre_visit"][i % 3],
        )
        for i in range(n)
    )


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_progress_report_query_count_does_not_grow_with_the_data(world):
    plan = _plan_with_every_metric(world)
    _add_contacts(world, 10)
    small = _queries(
        lambda: progress_report(
            plan, year=YEAR, as_of=datetime.date(2025, 12, 31), exact=True
        ).table()
    )
    _add_contacts(world, 990)
    report = None

    def run():
        nonlocal report
        report = progress_report(plan, year=YEAR, as_of=datetime.date(2025, 12, 31), exact=True)
        report.table()

    large = _queries(run)
    assert small == large, (small, large)
    print(f"progress report: {large} queries with 10 and with 1,000 contacts")
    # The plan rows (indicators, targets, values, assessments, snapshots) and, per source
    # table and scope, one query for plain counts and one for distinct counts (contacts and
    # meetings have both kinds). The town-scoped indicator (new consultations) is the only
    # one on the cases table, so that table is queried once, for the town.
    tables = {m.source.key for m in metrics.REGISTRY.values()}
    # Statistics (medians, shares) of a table reading the same fields share a third query.
    kinds = {
        (m.source.key, m.counting == metrics.DISTINCT, m.is_statistic)
        for m in metrics.REGISTRY.values()
    }
    assert len(tables) < len(kinds)
    # On PostgreSQL, two more: the statement timeout raised for the report and put back
    # (config.database.longer_statement_timeout).
    assert large == 5 + len(kinds) + 2 * (connection.vendor == "postgresql")
    contacts_row = next(r for r in report.rows if r.indicator.metric == "contacts")
    assert contacts_row.actual.value == 1000


def test_breakdown_query_count_does_not_grow_with_the_data(world):
    cell = metrics.Cell.of("contacts", {}, Period.fiscal(YEAR))
    _add_contacts(world, 10)
    small = _queries(lambda: metric_breakdown(cell, scope=metrics.Scope(), exact=True))
    _add_contacts(world, 990)
    large = _queries(lambda: metric_breakdown(cell, scope=metrics.Scope(), exact=True))
    assert small == large
