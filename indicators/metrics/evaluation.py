"""Answering metrics: `evaluate` takes any number of (metric, parameters, period) cells and
answers all of those sharing a source table with one aggregate query (conditional
aggregation; distinct counts in a second one); `breakdown` answers one metric by one
dimension with one grouped query."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.routers import statistics_reads

from ..periods import Period
from .registry import Distinct, Metric, Scope, get


@dataclass(frozen=True)
class Cell:
    """One figure to compute: a metric with parameters over a period."""

    metric_key: str
    params: tuple[tuple[str, tuple[str, ...]], ...]
    period: Period

    @classmethod
    def of(cls, metric_key: str, params: Mapping[str, Any] | None, period: Period) -> Cell:
        cleaned = get(metric_key).clean_params(params)
        return cls(metric_key, tuple((k, tuple(v)) for k, v in sorted(cleaned.items())), period)

    @property
    def metric(self) -> Metric:
        return get(self.metric_key)

    @property
    def param_dict(self) -> dict[str, list[str]]:
        return {key: list(values) for key, values in self.params}


def evaluate(cells: Iterable[Cell], scope: Scope) -> dict[Cell, int]:
    """Every cell's figure, one aggregate query per source table involved."""
    # Per table, plain counts and sums in one query and the distinct counts of each kind
    # (cases, people, hosts) in another: counting distinct things needs a grouping (and,
    # for people, the client of each case) that the plain counts do not.
    by_source: dict[tuple[str, Distinct | None], list[Cell]] = defaultdict(list)
    for cell in dict.fromkeys(cells):
        measure = cell.metric.measure
        by_source[
            (cell.metric.source.key, measure if isinstance(measure, Distinct) else None)
        ].append(cell)
    results: dict[Cell, int] = {}
    for (_source_key, distinct), source_cells in by_source.items():
        source = source_cells[0].metric.source
        rows = source.queryset().filter(scope.q(source.organisation_path))
        if source.date_path is not None:
            whole = Period(
                min(cell.period.start for cell in source_cells),
                max(cell.period.end for cell in source_cells),
            )
            rows = rows.filter(source.period_q(whole))
        filters = [cell.metric.filter(cell.param_dict, cell.period) for cell in source_cells]
        with statistics_reads():  # from the replica, when one is configured
            if distinct is None:
                aggregates = {
                    f"c{i}": cell.metric.measure(filter_q)
                    for i, (cell, filter_q) in enumerate(zip(source_cells, filters, strict=True))
                }
                answer = rows.aggregate(**aggregates)
                figures = [answer[f"c{i}"] for i in range(len(source_cells))]
            else:
                figures = _distinct_figures(rows, distinct, filters)
        for cell, figure in zip(source_cells, figures, strict=True):
            results[cell] = int(figure or 0)
    return results


def _distinct_figures(rows: QuerySet, distinct: Distinct, filters: list[Q]) -> list[int]:
    """One distinct count per filter, in one query of two steps.

    First the rows are grouped by the thing they name, each group flagged per filter
    (how many of its rows meet it); then the flagged groups are counted, for people
    after turning each case into its client. COUNT(DISTINCT …) of each figure over the
    rows would sort every row once per figure and join every contact to its case; here
    the table is read once, and only the groups (a case each) meet the case table.
    """
    groups = (
        rows.filter(**{f"{distinct.path}__isnull": False})
        .values(k=F(distinct.path))
        .annotate(
            **{f"c{i}": Count(Value(1), filter=filter_q) for i, filter_q in enumerate(filters)}
        )
        .order_by()
    )
    alias = groups.db
    connection = connections[alias]
    inner, params = groups.query.get_compiler(using=alias).as_sql()
    quote = connection.ops.quote_name
    if distinct.as_people:
        cases = rows.model._meta.get_field(distinct.path).related_model._meta
        thing = f"COALESCE(p.{quote(cases.get_field('client').column)}, g.k)"
        joined = f" LEFT JOIN {quote(cases.db_table)} p ON p.{quote(cases.pk.column)} = g.k"
        counts = [
            f"COUNT(DISTINCT CASE WHEN g.c{i} > 0 THEN {thing} END)" for i in range(len(filters))
        ]
    else:
        joined = ""
        counts = [f"COUNT(CASE WHEN g.c{i} > 0 THEN 1 END)" for i in range(len(filters))]
    # Deliberate departure from DESIGN: raw SQL over casework's case table (docs/architecture.md).
    # Identifiers come from the models' metadata, values only as parameters.
    sql = f"SELECT {', '.join(counts)} FROM ({inner}) g{joined}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchone())


@dataclass
class BreakdownRow:
    key: Any
    label: str
    value: int


def breakdown(cell: Cell, scope: Scope, dimension_key: str) -> list[BreakdownRow]:
    """One metric by one dimension, with one grouped query. Months and choice values are
    listed even when zero; organisations and regions only when they occur."""
    metric = cell.metric
    dimension = metric.source.dimension(dimension_key)
    source = metric.source
    rows = source.queryset().filter(
        scope.q(source.organisation_path) & metric.filter(cell.param_dict, cell.period)
    )
    if dimension.month:
        if source.timestamp:
            group = TruncMonth(dimension.path, tzinfo=timezone.get_current_timezone())
        else:
            group = TruncMonth(dimension.path)
        values = rows.values(k=group)
    elif dimension.name_path:
        values = rows.values(k=F(dimension.path), k_name=F(dimension.name_path))
    else:
        values = rows.values(k=F(dimension.path))
    with statistics_reads():
        found = list(values.annotate(v=metric.measure(None)).order_by())
    if dimension.month:
        counts: dict[Any, int] = defaultdict(int)
        for row in found:
            month = row["k"]
            if isinstance(month, datetime.datetime):
                month = (
                    timezone.localtime(month).date() if timezone.is_aware(month) else month.date()
                )
            counts[month] += int(row["v"] or 0)
        return [
            BreakdownRow(month, f"{month.year}年{month.month}月", counts.get(month, 0))
            for month in cell.period.months()
        ]
    labels = dimension.labels(found)
    counts = {row["k"]: int(row["v"] or 0) for row in found}
    if dimension.choices is not None:
        ordered = list(dimension.choices)
        extra = [k for k in counts if k not in dimension.choices]
        return [BreakdownRow(k, labels.get(k, str(k)), counts.get(k, 0)) for k in ordered + extra]
    result = [
        BreakdownRow(k, labels.get(k) or str(_("不明・該当なし")), v)
        for k, v in counts.items()
        if k is not None
    ]
    result.sort(key=lambda row: row.label)
    if None in counts:
        result.append(BreakdownRow(None, str(_("不明・該当なし")), counts[None]))
    return result
