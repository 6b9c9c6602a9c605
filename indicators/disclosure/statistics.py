"""Publications of statistics (medians, shares: indicators.metrics.Statistic), which are
not counts: no figure is the sum of others, so they are not in the linear model of the
counts (indicators.disclosure.space) and secondary suppression has nothing to add up.

The rule, for viewers without exact figures (regions and the prefecture, whole fiscal
years only, like distinct counts: two month-end cuts of a median would tell about the
referrals between them): a figure is shown only when it stands on at least
`MINIMUM_ROWS` rows and at least `threshold` of them (the count threshold, 3) come from
organisations other than the one with the most. A median of a handful of referrals is
one referral's own figure; and an organisation knowing its own rows must not learn the
others' from a figure that is nearly all its own. Every other figure is hidden (None).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from .. import metrics
from ..periods import Period
from . import space as query_space

MINIMUM_ROWS = 10


def may_show(rows_by_organisation: Counter, *, threshold: int) -> bool:
    """Whether a statistic over these rows (organisation → how many) may be shown."""
    total = sum(rows_by_organisation.values())
    largest = max(rows_by_organisation.values(), default=0)
    return total >= MINIMUM_ROWS and total - largest >= threshold


def compute(
    metric: metrics.Metric, period: Period, *, threshold: int
) -> tuple[list[list[Any]], int]:
    """[scope, dimension, value, shown] of every figure of a statistic's publication (the
    total and every breakdown row, for each region and the prefecture), and how many are
    hidden. Shown values are numbers (JSON); nothing before the year is over."""
    if not query_space.is_closed(period):
        return [], 0
    cell = metrics.Cell.of(metric.key, {}, period)
    statistic = metric.statistic
    organisations, regions = query_space._scopes()
    region_of = dict(organisations)
    scopes = [query_space.region_scope(pk) for pk in regions] + [query_space.PREFECTURE]
    figures: list[list[Any]] = []
    hidden = 0
    for dimension in [None, *(d.key for d in metric.dimensions)]:
        if dimension is None:
            order: list[Any] = [None]
        else:  # the prefecture's rows, in its order (months and choices even when empty)
            order = [
                query_space.value_code(row.key)
                for row in metrics.breakdown(cell, metrics.Scope(), dimension)
            ]
        values: dict[tuple[str, Any], list[int]] = defaultdict(list)
        sources: dict[tuple[str, Any], Counter] = defaultdict(Counter)
        for organisation, key, value in metrics.statistic_values(cell, metrics.Scope(), dimension):
            region = region_of.get(organisation)
            codes = [query_space.PREFECTURE]
            if region is not None:
                codes.append(query_space.region_scope(region))
            for code in codes:
                values[(code, query_space.value_code(key))].append(value)
                sources[(code, query_space.value_code(key))][organisation] += 1
        for code in scopes:
            for key in order:
                found = values.get((code, key), [])
                shown: Decimal | None = None
                if found and may_show(sources[(code, key)], threshold=threshold):
                    shown = statistic.summarise(found, cell.param_dict)
                hidden += shown is None
                figures.append(
                    [code, dimension or "", key, None if shown is None else float(shown)]
                )
    return figures, hidden


def as_decimal(shown: Any) -> Decimal | None:
    """A stored statistic (a JSON number) as the exact decimal it was: 66.7, not the
    binary float nearest to it."""
    return None if shown is None else Decimal(str(shown))
