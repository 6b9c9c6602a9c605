"""Answering metrics: `evaluate` takes any number of (metric, parameters, period) cells and
answers all of those sharing a source table with one aggregate query (conditional
aggregation; distinct counts in a second one); `breakdown` answers one metric by one
dimension with one grouped query."""

from __future__ import annotations

import datetime
import operator
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import reduce
from typing import Any

from django.db import connections
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.routers import statistics_reads

from ..periods import Period
from .registry import Dimension, Distinct, Metric, Scope, Statistic, get


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


def evaluate(cells: Iterable[Cell], scope: Scope) -> dict[Cell, Any]:
    """Every cell's figure, one aggregate query per source table involved. Counts are
    ints; statistics (medians, shares: `Statistic`) are Decimals, or None without rows."""
    # Per table, plain counts and sums in one query and the distinct counts of each kind
    # (cases, people, hosts) in another: counting distinct things needs a grouping (and,
    # for people, the client of each case) that the plain counts do not. Statistics
    # reading the same fields of a table share one query of their rows.
    by_source: dict[tuple[str, Any], list[Cell]] = defaultdict(list)
    for cell in dict.fromkeys(cells):
        measure = cell.metric.measure
        if isinstance(measure, Statistic):
            kind: Any = measure.fields
        else:
            kind = measure if isinstance(measure, Distinct) else None
        by_source[(cell.metric.source.key, kind)].append(cell)
    results: dict[Cell, Any] = {}
    for (_source_key, kind), source_cells in by_source.items():
        source = source_cells[0].metric.source
        rows = source.queryset().filter(scope.q(source.organisation_path))
        if source.date_path is not None:
            whole = Period(
                min(cell.period.start for cell in source_cells),
                max(cell.period.end for cell in source_cells),
            )
            rows = rows.filter(source.period_q(whole))
        filters = [cell.metric.filter(cell.param_dict, cell.period) for cell in source_cells]
        if isinstance(kind, tuple):
            with statistics_reads():
                results.update(_statistic_figures(rows, source_cells, filters))
            continue
        distinct = kind
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


def _statistic_figures(rows: QuerySet, cells: list[Cell], filters: list[Q]) -> dict[Cell, Any]:
    """Statistics reading the same fields: the rows any of them matches, once, with a flag
    per cell; each cell's figure summarised in Python from the values of its rows."""
    first = cells[0].metric.statistic
    flags = {
        f"c{i}": ExpressionWrapper(filter_q, output_field=BooleanField())
        for i, filter_q in enumerate(filters)
    }
    matching = rows.filter(reduce(operator.or_, filters)).annotate(**flags).order_by()
    values: list[list[int]] = [[] for _cell in cells]
    for row in matching.values_list(*first.fields, *flags):
        fields, flagged = row[: len(first.fields)], row[len(first.fields) :]
        for i, cell in enumerate(cells):
            if flagged[i]:
                value = cell.metric.statistic.value(*fields)
                if value is not None:
                    values[i].append(value)
    answers: dict[Cell, Any] = {}
    for cell, found in zip(cells, values, strict=True):
        statistic = cell.metric.statistic
        answers[cell] = statistic.summarise(found, cell.param_dict) if found else None
    return answers


def statistic_values(cell: Cell, scope: Scope, dimension_key: str | None) -> list[tuple]:
    """(recording organisation, breakdown value or None, row value) of every row a
    statistic's cell summarises: the publication's rule needs who each row is from."""
    metric = cell.metric
    statistic = metric.statistic
    source = metric.source
    rows = source.queryset().filter(
        scope.q(source.organisation_path) & metric.filter(cell.param_dict, cell.period)
    )
    organisation = source.organisation_path or "pk"
    if dimension_key is None:
        group: Any = Value(None, output_field=IntegerField())
    else:
        group = _group(metric.source.dimension(dimension_key), source)
    with statistics_reads():
        found = list(
            rows.annotate(o=F(organisation), k=group)
            .order_by()
            .values_list("o", "k", *statistic.fields)
        )
    answer = []
    for organisation_id, key, *fields in found:
        value = statistic.value(*fields)
        if value is not None:
            answer.append((organisation_id, _month_key(key), value))
    return answer


def _group(dimension: Dimension, source: Any) -> Any:
    if dimension.month:
        if source.timestamp:
            return TruncMonth(dimension.path, tzinfo=timezone.get_current_timezone())
        return TruncMonth(dimension.path)
    return F(dimension.path)


def _month_key(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


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
    value: Any  # an int; for a statistic a Decimal, or None without rows


def _statistic_breakdown(cell: Cell, scope: Scope, dimension: Dimension) -> dict[Any, Any]:
    """A statistic by one dimension: the rows' values grouped in Python, each group
    summarised on its own (never added up)."""
    statistic = cell.metric.statistic
    grouped: dict[Any, list[int]] = defaultdict(list)
    for _organisation, key, value in statistic_values(cell, scope, dimension.key):
        grouped[key].append(value)
    return {key: statistic.summarise(values, cell.param_dict) for key, values in grouped.items()}


def breakdown(cell: Cell, scope: Scope, dimension_key: str) -> list[BreakdownRow]:
    """One metric by one dimension, with one grouped query. Months and choice values are
    listed even when zero; organisations and regions only when they occur."""
    metric = cell.metric
    dimension = metric.source.dimension(dimension_key)
    source = metric.source
    rows = source.queryset().filter(
        scope.q(source.organisation_path) & metric.filter(cell.param_dict, cell.period)
    )
    # A statistic's empty group has no figure (None); a count's is 0.
    empty: Any = None if metric.is_statistic else 0
    found: list[dict[str, Any]] = []
    counts: dict[Any, Any]
    if metric.is_statistic:
        counts = _statistic_breakdown(cell, scope, dimension)
        if dimension.name_path:
            found = _names(rows, dimension, list(counts))
    else:
        names = {"k_name": F(dimension.name_path)} if dimension.name_path else {}
        if dimension.order_path:
            names["k_order"] = F(dimension.order_path)
        values = rows.values(k=_group(dimension, source), **names)
        with statistics_reads():
            found = list(values.annotate(v=metric.measure(None)).order_by())
        counts = defaultdict(int)
        for row in found:
            counts[_month_key(row["k"])] += int(row["v"] or 0)
    if dimension.month:
        return [
            BreakdownRow(month, f"{month.year}年{month.month}月", counts.get(month, empty))
            for month in cell.period.months()
        ]
    labels = dimension.labels(found)
    if dimension.choices is not None:
        ordered = list(dimension.choices)
        extra = [k for k in counts if k not in dimension.choices]
        return [
            BreakdownRow(k, labels.get(k, str(k)), counts.get(k, empty)) for k in ordered + extra
        ]
    order = {row["k"]: row.get("k_order") for row in found}
    result = [
        BreakdownRow(k, labels.get(k) or str(_("不明・該当なし")), v)
        for k, v in counts.items()
        if k is not None
    ]
    # Municipalities by local government code (regions by their display order); rows
    # without one (an organisation that is not a municipality) after them, by name.
    result.sort(
        key=lambda row: (order.get(row.key) in (None, ""), order.get(row.key) or 0, row.label)
    )
    if None in counts:
        result.append(BreakdownRow(None, str(_("不明・該当なし")), counts[None]))
    return result


def _names(rows: QuerySet, dimension: Dimension, keys: list[Any]) -> list[dict[str, Any]]:
    """Names (and order) of a statistic breakdown's organisations or regions."""
    names = {"k_name": F(dimension.name_path or dimension.path)}
    if dimension.order_path:
        names["k_order"] = F(dimension.order_path)
    chosen = rows.filter(**{f"{dimension.path}__in": [k for k in keys if k is not None]})
    with statistics_reads():
        return list(chosen.values(k=F(dimension.path), **names).distinct().order_by())


def ordered_keys(metric: Metric, dimension_key: str, keys: list[Any]) -> list[Any]:
    """Breakdown keys of organisations or regions in the order `breakdown` lists them (by
    local government code or display order, then name; unknown last), for rows that
    come from elsewhere (a stored publication). Other dimensions' keys stay as given."""
    dimension = metric.source.dimension(dimension_key)
    if dimension.order_path is None or dimension.name_path is None:
        return keys
    known = [key for key in keys if key is not None]
    found = (
        metric.source.queryset()
        .filter(**{f"{dimension.path}__in": known})
        .values_list(dimension.path, dimension.order_path, dimension.name_path)
        .distinct()
    )
    with statistics_reads():
        order = {key: (code in (None, ""), code or 0, name or "") for key, code, name in found}
    ordered = sorted(known, key=lambda key: order.get(key, (True, 0, "")))
    return ordered + [None] * (None in keys)
