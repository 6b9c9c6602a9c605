"""Publications: the one place the figures of viewers without exact figures come from.

A metric about people is published per fiscal year, cut at the year's end or, for the
current year, at the last month end (12月末現在): its query space
(indicators.disclosure.space) protected jointly against outsiders and against any one
organisation knowing its own figures (suppress.protect_with_insiders), and stored
(indicators.models.Publication). Readers read the stored figures; the first reader of a
year with none computes it, and `manage.py publish_statistics` replaces the stored ones
after each month end. Between two publications the same question gets the same answer.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import metrics
from ..models import Publication
from ..periods import Period, fiscal_year_bounds
from ..suppression import DEFAULT_THRESHOLD
from . import space as query_space
from .suppress import protect_with_insiders


def published_period(year: int, today: datetime.date | None = None) -> Period | None:
    """The period a publication of fiscal `year` covers: the whole year once it is over,
    else up to the last month end (None before the year's first month has ended)."""
    today = today or timezone.localdate()
    first, last = fiscal_year_bounds(year)
    if today > last:
        return Period(first, last)
    month_end = today.replace(day=1) - datetime.timedelta(days=1)
    if month_end < first:
        return None
    return Period(first, month_end)


def compute(
    metric: metrics.Metric, period: Period, *, threshold: int = DEFAULT_THRESHOLD
) -> tuple[list[list[Any]], int]:
    """Every figure of the metric's query space over `period`, shown value or None, and
    how many are hidden."""
    space = query_space.build(metric, period, threshold=threshold)
    model = space.model
    hidden: set = set()
    if metric.about_people:
        hidden = protect_with_insiders(model, list(space.insiders.values()))
    figures: list[list[Any]] = []
    for key, figure in model.figures.items():
        scope, dimension, value = cast(query_space.Key, key)
        figures.append([scope, dimension, value, None if key in hidden else figure.value])
    return figures, len(hidden)


def publish(
    metric_key: str, year: int, *, today: datetime.date | None = None
) -> Publication | None:
    """Compute and store (replacing) the publication of `metric_key` for `year`."""
    metric = metrics.get(metric_key)
    period = published_period(year, today)
    if period is None:
        return None
    started = time.perf_counter()
    figures, hidden = compute(metric, period)
    seconds = time.perf_counter() - started
    publication, _created = Publication.objects.update_or_create(
        metric=metric.key,
        fiscal_year=year,
        defaults={
            "as_of": period.end,
            "figures": figures,
            "hidden": hidden,
            "seconds": seconds,
            "computed_at": timezone.now(),
        },
    )
    return publication


@dataclass
class Published:
    """A stored publication as readers use it. `period` is None when nothing of the year
    is published yet (every figure reads as hidden)."""

    metric: metrics.Metric
    year: int
    period: Period | None
    figures: dict[tuple[str, str, Any], int | None]

    def figure(self, scope: metrics.Scope, dimension: str = "", value: Any = None) -> int | None:
        """The shown value, or None when hidden (or outside the query space)."""
        key = (query_space.scope_code(scope), dimension, query_space.value_code(value))
        return self.figures.get(key)

    def cell(self, params: dict[str, list[str]], scope: metrics.Scope) -> int | None:
        """A figure with parameters: the total, or the sum of the rows of the one
        breakdown a parameter selects (a distinct count only for one value); None when
        any part is hidden or the question is not in the query space."""
        chosen = {key: values for key, values in params.items() if values}
        if not chosen:
            return self.figure(scope)
        if len(chosen) > 1:
            return None
        ((key, values),) = chosen.items()
        dimension = _dimension_of(self.metric, key)
        if dimension is None:
            return None
        if self.metric.counting != metrics.TOTAL and len(values) > 1:
            return None
        parts = [self.figure(scope, dimension, value) for value in values]
        if any(part is None for part in parts):
            return None
        return sum(part for part in parts if part is not None)


def _dimension_of(metric: metrics.Metric, param_key: str) -> str | None:
    """The breakdown whose rows a parameter's values are (same field path)."""
    paths = {param.key: path for param, path in metric.params}
    path = paths.get(param_key)
    for dimension in metric.dimensions:
        if path and dimension.path == path and dimension.choices is not None:
            return dimension.key
    return None


def published(metric_key: str, years: Iterable[int]) -> dict[int, Published]:
    """The stored publications of `metric_key` for `years`; a year with none stored is
    computed now (its first reader pays, once)."""
    metric = metrics.get(metric_key)
    years = sorted(set(years))
    stored = {
        p.fiscal_year: p
        for p in Publication.objects.filter(metric=metric.key, fiscal_year__in=years)
    }
    result = {}
    for year in years:
        publication = stored.get(year)
        if publication is None:
            publication = _first(metric.key, year)
        if publication is None:
            result[year] = Published(metric, year, None, {})
            continue
        first, _last = fiscal_year_bounds(year)
        result[year] = Published(
            metric,
            year,
            Period(first, publication.as_of),
            {(s, d, v): shown for s, d, v, shown in publication.figures},
        )
    return result


def _first(metric_key: str, year: int) -> Publication | None:
    try:
        with transaction.atomic():
            return publish(metric_key, year)
    except IntegrityError:  # another reader stored it meanwhile
        return Publication.objects.filter(metric=metric_key, fiscal_year=year).first()


@dataclass
class AuditResult:
    """A stored publication checked against the records as they are now."""

    publication: Publication
    figures: int
    hidden: int
    changed: int  # shown figures whose value differs from today's records
    leaks: list[Any]  # (whose view, leak): figures someone can pin within the protection


def audit(publication: Publication, *, threshold: int = DEFAULT_THRESHOLD) -> AuditResult:
    """Rebuild the publication's query space from today's records and run the auditor
    over what it shows: for outsiders and for each organisation knowing its own figures.
    Shown figures that no longer match the records are counted: such a publication
    predates a correction and should be published again (the audit speaks of today's
    records)."""
    from .audit import leaks as find_leaks

    metric = metrics.get(publication.metric)
    first, _last = fiscal_year_bounds(publication.fiscal_year)
    space = query_space.build(metric, Period(first, publication.as_of), threshold=threshold)
    shown = {(s, d, v): value for s, d, v, value in publication.figures}
    hidden = {key for key, value in shown.items() if value is None}
    changed = 0
    for key, figure in space.model.figures.items():
        was = shown.get(cast(query_space.Key, key))
        changed += was is not None and was != figure.value
    found = [("outsider", leak) for leak in find_leaks(space.model, hidden)]
    for who, view in space.insiders.items():
        found += [(who, leak) for leak in find_leaks(view, hidden)]
    return AuditResult(publication, len(shown), len(hidden), changed, found)
