"""The query space of viewers without exact figures, as one linear model per metric and
fiscal year (indicators.disclosure.model).

What such a viewer can reach of a metric in a fiscal year is one published table set,
cut at one date (the year's end, or for the current year the last month end): for every
scope (each organisation, each region, the prefecture) the total and every breakdown
row, the parameters being breakdown rows themselves. No day ranges, no subsets of
values, no earlier cut of the same year (the month rows give those already).

Keys: (scope, dimension, value) with scope "p", "r<id>" or "o<id>", dimension "" for the
total and value a JSON-able text or number (months as "YYYY-MM-01", unknown as None).

Additive counts (延べ) have one unknown per organisation, dimension and value; each
organisation's dimensions add up to the same total (public: every row lands in exactly
one value of every dimension, an "unknown" row included), a region's and the
prefecture's figures are sums of their organisations'. A region breakdown of residence
is the sum of its municipalities. Distinct counts (実) are unknowns of their own with
what anyone knows of them: a part is at most its whole, a whole at most the sum of its
parts, and at least each.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from accounts.models import Organisation

from .. import metrics
from ..periods import Period
from .model import Model

PREFECTURE = "p"
NO_REGION = "n"  # organisations of no region: derivable, never read by a viewer
Key = tuple[str, str, Any]


def org_scope(pk: int) -> str:
    return f"o{pk}"


def region_scope(pk: int) -> str:
    return f"r{pk}"


def scope_code(scope: metrics.Scope) -> str:
    if scope.kind == metrics.Scope.ORGANISATION and scope.organisation_id is not None:
        return org_scope(scope.organisation_id)
    if scope.kind == metrics.Scope.REGION and scope.region_id is not None:
        return region_scope(scope.region_id)
    return PREFECTURE


def value_code(value: Any) -> Any:
    """A breakdown row's key as a publication stores it."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if value is None or isinstance(value, (int, str)):
        return value
    return str(value)


def is_small(value: int, threshold: int) -> bool:
    """People-counts below the threshold, zero included (0 is not told from 1 or 2)."""
    return value < threshold


@dataclass
class Space:
    """A metric's published figures for one fiscal year as a linear model, with what an
    insider knows: the unknowns of each organisation (its own exact figures)."""

    metric: metrics.Metric
    period: Period
    model: Model
    insiders: dict[str, Model] = field(default_factory=dict)
    fixed: set[Hashable] = field(default_factory=set)  # shown by an earlier publication

    @property
    def keys(self) -> list[Hashable]:
        return list(self.model.figures)


def _scopes() -> tuple[list[tuple[int, int | None]], list[int]]:
    organisations: list[tuple[int, int | None]] = list(
        Organisation.objects.order_by("pk").values_list("pk", "region_id")
    )
    regions = sorted({region for _pk, region in organisations if region is not None})
    return organisations, regions


def _derived_region(metric: metrics.Metric) -> tuple[str, str] | None:
    """(municipality dimension, region dimension) when the region breakdown is the
    municipality breakdown grouped by the municipality's region."""
    by_path = {d.path: d for d in metric.dimensions}
    for d in metric.dimensions:
        if d.key == "region" and d.path.endswith("__region"):
            municipality = by_path.get(d.path.removesuffix("__region"))
            if municipality is not None and municipality.name_path:
                return municipality.key, d.key
    return None


def _rows(cell: metrics.Cell, scope: metrics.Scope, dimension: str) -> dict[Any, int]:
    return {value_code(row.key): row.value for row in metrics.breakdown(cell, scope, dimension)}


def published_scopes(scope: metrics.Scope) -> bool:
    """Whether a scope's figures are published to viewers without exact figures: regions
    and the prefecture. An organisation's own figures are not (most are a handful of
    people in one town); they reach others only inside their region's sums."""
    return scope.kind != metrics.Scope.ORGANISATION


def is_closed(period: Period) -> bool:
    """Whether `period` is a whole fiscal year (else the current year to a month end)."""
    return period.is_whole_fiscal_year


def build(
    metric: metrics.Metric,
    period: Period,
    *,
    threshold: int,
    earlier: Sequence[Sequence[Any]] = (),
) -> Space:
    """The model of everything a viewer without exact figures can obtain of `metric`
    over `period` (one fiscal year, cut at a month end), with each organisation's view
    of it when the count is additive.

    Until the year is over only the totals and month rows of additive counts are
    published: each month end's publication replaces the last, and anything else cut at
    two month ends would differ by a month of it. `earlier` holds what earlier
    publications of the year showed, [as_of, scope, dimension, value, shown]: the
    attacker keeps them, so they are in the model as shown figures that can no longer be
    hidden (`Space.fixed`)."""
    cell = metrics.Cell.of(metric.key, {}, period)
    organisations, regions = _scopes()
    if metric.counting == metrics.TOTAL:
        return _additive(metric, cell, organisations, regions, threshold, earlier)
    if not is_closed(period):  # a year's new people by month end: whole years only
        return Space(metric, period, Model())
    everyone_in_a_region = all(region is not None for _pk, region in organisations)
    space = _distinct(metric, cell, regions, threshold, bounded=everyone_in_a_region)
    space.fixed = {
        key
        for as_of, scope, dimension, value, _shown in earlier
        if as_of == period.end.isoformat()
        and (key := (scope, dimension, value)) in space.model.figures
    }
    return space


def _listed_values(metric: metrics.Metric, period: Period) -> dict[str, dict[Any, None]]:
    """The rows every table lists even at zero (months, choices); values found in the
    data are added as they come."""
    universe: dict[str, dict[Any, None]] = defaultdict(dict)
    for dimension in metric.dimensions:
        if dimension.month:
            universe[dimension.key] = dict.fromkeys(value_code(m) for m in period.months())
        elif dimension.choices is not None:
            universe[dimension.key] = dict.fromkeys(dimension.choices)
    return universe


def _weight(key: Key) -> int:
    """Complements prefer a region's rows to the prefecture's, rows to totals."""
    return (2 if key[0] == PREFECTURE else 1) * (2 if key[1] == "" else 1)


def _additive(metric, cell, organisations, regions, threshold, earlier) -> Space:
    """Unknowns per region (and one for organisations outside any region), dimension and
    value; a region's figures are its unknowns, the prefecture's their sums."""
    closed = is_closed(cell.period)
    derived = _derived_region(metric) if closed else None
    months = [d.key for d in metric.dimensions if d.month]
    dimensions = [
        d.key
        for d in metric.dimensions
        if (closed or d.month) and (not derived or d.key != derived[1])
    ]
    region_of = (
        dict(Organisation.objects.values_list("pk", "region_id")) if derived is not None else {}
    )
    own: dict[int, dict[tuple[str, Any], int]] = {}
    universe = _listed_values(metric, cell.period)
    for pk, _region in organisations:
        scope = metrics.Scope(metrics.Scope.ORGANISATION, organisation_id=pk)
        if not metrics.evaluate([cell], scope)[cell]:
            continue  # nothing of its own to know
        own[pk] = {}
        for dimension in dimensions:
            for value, count in _rows(cell, scope, dimension).items():
                own[pk][(dimension, value)] = count
                universe[dimension][value] = None
    bucket_of = dict(organisations)
    fixed = _fixed(earlier, cell.period, months)

    def counts_of(excluded: int | None) -> dict[tuple[Any, str, Any], int]:
        counts: dict[tuple[Any, str, Any], int] = defaultdict(int)
        for pk, rows in own.items():
            if pk == excluded:
                continue
            for (dimension, value), count in rows.items():
                counts[(bucket_of[pk], dimension, value)] += count
        return counts

    def model_of(counts: dict[tuple[Any, str, Any], int], *, insider: bool = False) -> Model:
        # To an insider a figure is the others' part of it: none at all (all its own)
        # is no one else's figure to protect, else a prefecture with one organisation
        # recording would publish nothing.
        def sensitive(value: int) -> bool:
            small = 0 < value < threshold if insider else is_small(value, threshold)
            return metric.about_people and small

        model = Model()
        sums: dict[Key, list[int]] = defaultdict(list)
        for bucket in [*regions, None]:
            # Organisations of no region are the prefecture's figures less the regions':
            # their own (never published) figures, protected like any other.
            scopes = [region_scope(bucket) if bucket is not None else NO_REGION, PREFECTURE]
            base: list[int] | None = None
            for dimension in dimensions:
                unknowns = []
                for value in universe[dimension]:
                    u = model.unknown(counts.get((bucket, dimension, value), 0))
                    unknowns.append(u)
                    for scope in scopes:
                        sums[(scope, dimension, value)].append(u)
                        if derived and dimension == derived[0]:
                            region = region_of.get(value) if value is not None else None
                            sums[(scope, derived[1], region)].append(u)
                if not unknowns:
                    continue  # no row anywhere: the dimension says nothing
                if base is None:
                    base = unknowns
                    for scope in scopes:
                        sums[(scope, "", None)].extend(unknowns)
                else:
                    model.relate(unknowns, base, equal=True)
        for key, terms in sums.items():
            value = sum(model.values[u] for u in terms)
            model.publish(
                key,
                terms,
                sensitive=sensitive(value) and key not in fixed,
                cost=(value + 1) * _weight(key),
            )
        for key, terms in _earlier_terms(sums, earlier, cell.period, months).items():
            model.publish(key, terms, sensitive=False)
        return model

    space = Space(metric, cell.period, model_of(counts_of(None)))
    space.fixed = {
        key for key in space.model.figures if key in fixed or cast(tuple, key)[0] == "earlier"
    }
    if metric.about_people:
        # An organisation knows its own figures exactly: what it sees of the publication
        # is the same tables holding everyone else's part.
        space.insiders = {org_scope(pk): model_of(counts_of(pk), insider=True) for pk in own}
    return space


def _fixed(earlier, period: Period, months: list[str]) -> set[Key]:
    """Earlier shown figures that are figures of this publication too: rows of the same
    cut, and month rows (a month is the same whatever the cut)."""
    return {
        (scope, dimension, value)
        for as_of, scope, dimension, value, _shown in earlier
        if as_of == period.end.isoformat() or dimension in months
    }


def _earlier_terms(
    sums: dict[Key, list[int]], earlier, period: Period, months: list[str]
) -> dict[tuple, list[int]]:
    """Earlier cuts' totals as figures of their own, the sum of their months' unknowns
    (keyed ("earlier", as_of, scope, "", None)). Earlier publications of the year show
    nothing else (see `build`)."""
    found: dict[tuple, list[int]] = {}
    if not months:
        return found
    for as_of, scope, dimension, value, _shown in earlier:
        if as_of == period.end.isoformat() or dimension != "":
            continue
        terms = [
            u
            for (s, d, month), unknowns in sums.items()
            if s == scope and d == months[0] and month is not None and month <= as_of
            for u in unknowns
        ]
        found[("earlier", as_of, scope, dimension, value)] = terms
    return found


def _distinct(metric, cell, regions, threshold, *, bounded: bool) -> Space:
    """Each figure an unknown of its own: a part is at most its whole, a whole at most
    the sum of its parts and at least each (one person may be counted in several)."""
    model = Model()
    space = Space(metric, cell.period, model)
    scopes = [
        (region_scope(pk), metrics.Scope(metrics.Scope.REGION, region_id=pk)) for pk in regions
    ]
    scopes.append((PREFECTURE, metrics.Scope()))
    dimensions = [d.key for d in metric.dimensions]
    tables: dict[str, dict[str, dict[Any, int]]] = {}
    universe = _listed_values(metric, cell.period)
    totals: dict[str, int] = {}
    for code, scope in scopes:
        totals[code] = metrics.evaluate([cell], scope)[cell]
        tables[code] = {}
        for dimension in dimensions:
            rows = _rows(cell, scope, dimension)
            tables[code][dimension] = rows
            universe[dimension].update(dict.fromkeys(rows))
    unknown: dict[Key, int] = {}
    for code, _scope in scopes:
        unknown[(code, "", None)] = model.unknown(totals[code])
        for dimension in dimensions:
            for value in universe[dimension]:
                unknown[(code, dimension, value)] = model.unknown(
                    tables[code][dimension].get(value, 0)
                )

    def relate_whole(parts: list[int], whole: int) -> None:
        """A whole is at least each part; where the parts add up to it exactly (nobody
        counted twice, as a person's one gender or, mostly, one region), an attacker
        may assume they always do: that equality is modelled too."""
        for part in parts:
            model.relate([part], [whole])
        if sum(model.values[u] for u in parts) == model.values[whole]:
            model.relate(parts, [whole], equal=True)
        else:
            model.relate([whole], parts)

    for code, _scope in scopes:
        total = unknown[(code, "", None)]
        for dimension in dimensions:
            parts = [unknown[(code, dimension, value)] for value in universe[dimension]]
            if not parts:
                continue  # no row anywhere: the dimension says nothing
            relate_whole(parts, total)
    kids = [code for code, _scope in scopes if code != PREFECTURE]
    for key in [k for k in unknown if k[0] == PREFECTURE]:
        whole = unknown[key]
        parts = [unknown[(kid, key[1], key[2])] for kid in kids]
        if bounded:
            relate_whole(parts, whole)
        else:  # people of no region's organisations count in the prefecture only
            for part in parts:
                model.relate([part], [whole])
            if sum(model.values[u] for u in parts) == model.values[whole]:
                model.relate(parts, [whole], equal=True)
    for key, u in unknown.items():
        value = model.values[u]
        model.publish(
            key,
            [u],
            sensitive=metric.about_people and is_small(value, threshold),
            cost=(value + 1) * _weight(key),
        )
    return space
