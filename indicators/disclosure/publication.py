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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.utils import timezone
from django.utils.translation import gettext as _

from .. import metrics
from ..models import Publication
from ..periods import Period, fiscal_year_bounds
from ..suppression import DEFAULT_THRESHOLD
from . import space as query_space
from . import statistics
from .suppress import protect_with_insiders


def published_metrics() -> list[str]:
    """The metrics that are published (counts about people); the others are counted for
    everyone."""
    return [key for key, metric in metrics.REGISTRY.items() if metric.about_people]


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
    metric: metrics.Metric,
    period: Period,
    *,
    threshold: int = DEFAULT_THRESHOLD,
    earlier: Sequence[Sequence[Any]] = (),
) -> tuple[list[list[Any]], int]:
    """Every figure of the metric's query space over `period`, shown value or None, and
    how many are hidden; `earlier` is what earlier publications of the year showed."""
    if metric.is_statistic:  # a median or share: its own rule, no linear model
        return statistics.compute(metric, period, threshold=threshold)
    space = query_space.build(metric, period, threshold=threshold, earlier=earlier)
    model = space.model
    hidden: set = set()
    if metric.about_people:
        hidden = protect_with_insiders(model, list(space.insiders.values()), fixed=space.fixed)
    figures: list[list[Any]] = []
    for key, figure in model.figures.items():
        if len(cast(tuple, key)) != 3:
            continue  # an earlier cut's figure: in the model, not in this publication
        scope, dimension, value = cast(query_space.Key, key)
        figures.append([scope, dimension, value, None if key in hidden else figure.value])
    return _in_breakdown_order(metric, figures), len(hidden)


def _in_breakdown_order(metric: metrics.Metric, figures: list[list[Any]]) -> list[list[Any]]:
    """The figures with each table's municipality (region) rows in the order the exact
    breakdown lists them: by local government code (display order), not as found."""
    rank: dict[str, dict[Any, int]] = {}
    for dimension in metric.dimensions:
        if dimension.order_path is not None:
            keys = list(dict.fromkeys(v for _s, d, v, _shown in figures if d == dimension.key))
            ordered = metrics.ordered_keys(metric, dimension.key, keys)
            rank[dimension.key] = {key: i for i, key in enumerate(ordered)}
    if not rank:
        return figures
    tables = {(s, d): i for i, (s, d) in enumerate(dict.fromkeys((f[0], f[1]) for f in figures))}
    return sorted(figures, key=lambda f: (tables[(f[0], f[1])], rank.get(f[1], {}).get(f[2], 0)))


def shown_earlier(publication: Publication) -> list[list[Any]]:
    """What a viewer has kept of the year's publications up to `publication`:
    [as_of, scope, dimension, value, shown] of every figure shown."""
    as_of = publication.as_of.isoformat()
    return [
        *publication.earlier,
        *(
            [as_of, scope, dimension, value, shown]
            for scope, dimension, value, shown in publication.figures
            if shown is not None and scope != query_space.NO_REGION
        ),
    ]


def publish(
    metric_key: str, year: int, *, today: datetime.date | None = None, revise: bool = False
) -> Publication | None:
    """Compute and store the publication of `metric_key` for `year`, replacing the
    year's last one. What that and the ones before it showed stays shown (a viewer keeps
    them). A year already published whole is final: it is computed again only when
    `revise` (a correction after the year closed), and then too keeps what it showed."""
    metric = metrics.get(metric_key)
    period = published_period(year, today)
    if period is None:
        return None
    previous = Publication.objects.filter(metric=metric.key, fiscal_year=year).first()
    if previous is not None and previous.as_of >= period.end and not revise:
        return previous  # final for this cut: the same question, the same answer
    earlier = shown_earlier(previous) if previous is not None else []
    started = time.perf_counter()
    figures, hidden = compute(metric, period, earlier=earlier)
    seconds = time.perf_counter() - started
    publication, _created = Publication.objects.update_or_create(
        metric=metric.key,
        fiscal_year=year,
        defaults={
            "as_of": period.end,
            "figures": figures,
            "earlier": earlier,
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
    figures: dict[tuple[str, str, Any], Any]  # int, or for a statistic a Decimal; None: hidden

    def figure(self, scope: metrics.Scope, dimension: str = "", value: Any = None) -> int | None:
        """The shown value, or None when hidden (or outside the query space)."""
        key = (query_space.scope_code(scope), dimension, query_space.value_code(value))
        return self.figures.get(key)

    @property
    def is_closed(self) -> bool:
        return self.period is not None and self.period.is_whole_fiscal_year

    def values(self, scope: metrics.Scope, dimension: str) -> list[Any]:
        """The rows a breakdown of `scope` has in this publication, in stored order."""
        code = query_space.scope_code(scope)
        return [v for (s, d, v) in self.figures if s == code and d == dimension]

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
    """The stored publications of `metric_key` for `years` (a year with none stored reads
    as all hidden: readers never compute one, `publish_statistics` does)."""
    return published_of([metric_key], years)[metric_key]


def published_of(
    metric_keys: Iterable[str], years: Iterable[int]
) -> dict[str, dict[int, Published]]:
    """`published` for several metrics at once: one query whatever their number."""
    chosen = {key: metrics.get(key) for key in metric_keys}
    years = sorted(set(years))
    stored = {
        (p.metric, p.fiscal_year): p
        for p in Publication.objects.filter(metric__in=list(chosen), fiscal_year__in=years)
    }
    result: dict[str, dict[int, Published]] = {}
    for key, metric in chosen.items():
        result[key] = {}
        for year in years:
            publication = stored.get((key, year))
            if publication is None:
                result[key][year] = Published(metric, year, None, {})
                continue
            first, _last = fiscal_year_bounds(year)
            read = statistics.as_decimal if metric.is_statistic else (lambda shown: shown)
            result[key][year] = Published(
                metric,
                year,
                Period(first, publication.as_of),
                {(s, d, v): read(shown) for s, d, v, shown in publication.figures},
            )
    return result


class NotPublished(Exception):
    """A question outside what viewers without exact figures may ask; the message says
    why, in words for the person asking."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.missing = missing  # the question is fine, the publication does not exist yet


def for_period(metric_key: str, period: Period, scope: metrics.Scope) -> Published:
    """The publication that answers `metric_key` over `period` in `scope`, or
    NotPublished: only regions and the prefecture, only fiscal years (the current one to
    the last month end: a later as-of date reads the same figures), no day ranges."""
    if not query_space.published_scopes(scope):
        raise NotPublished(
            _(
                "組織ごとの数値は、その組織の担当者にのみ表示されます。"
                "圏域または県全体を選んでください。"
            )
        )
    if not period.is_fiscal:
        raise NotPublished(
            _(
                "公表値は年度単位です（今年度は前月末現在）。"
                "開始日・終了日を指定した集計はできません。"
            )
        )
    found = published(metric_key, [period.fiscal_year])[period.fiscal_year]
    if found.period is None:
        raise NotPublished(
            _("この年度の公表値はまだ作成されていません（月末ごとに作成されます）。"),
            missing=True,
        )
    _refuse_earlier(period.end, found.period)
    return found


def published_cut(year: int, as_of: datetime.date | None) -> Period:
    """The period the publications of `year` cover today, for a report read from them:
    an as-of date before it is a question they do not answer (NotPublished); before the
    year's first month end, the year as asked (every counted figure hidden)."""
    period = published_period(year)
    if period is None:
        return Period.fiscal(year, as_of)
    if as_of is not None:
        _refuse_earlier(as_of, period)
    return period


def _refuse_earlier(asked_end: datetime.date, published: Period) -> None:
    """Two cuts of one year would give what happened between them."""
    if asked_end < published.end:
        raise NotPublished(
            _("公表値は%(date)s現在の数値です。それより前の基準日は指定できません。")
            % {"date": published.end.strftime("%Y/%m/%d")}
        )


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
    from .audit import shown_sensitive

    metric = metrics.get(publication.metric)
    first, _last = fiscal_year_bounds(publication.fiscal_year)
    if metric.is_statistic:
        return _audit_statistic(publication, metric, threshold=threshold)
    space = query_space.build(
        metric,
        Period(first, publication.as_of),
        threshold=threshold,
        earlier=publication.earlier,
    )
    shown = {(s, d, v): value for s, d, v, value in publication.figures}
    hidden = {key for key, value in shown.items() if value is None}
    changed = 0
    for key, figure in space.model.figures.items():
        was = shown.get(cast(query_space.Key, key))
        changed += was is not None and was != figure.value
    found = [
        ("outsider", leak)
        for leak in shown_sensitive(space.model, hidden) + find_leaks(space.model, hidden)
    ]
    for who, view in space.insiders.items():
        found += [(who, leak) for leak in shown_sensitive(view, hidden) + find_leaks(view, hidden)]
    return AuditResult(publication, len(shown), len(hidden), changed, found)


def _audit_statistic(
    publication: Publication, metric: metrics.Metric, *, threshold: int
) -> AuditResult:
    """A statistic's publication against today's records: figures that changed, and
    shown figures today's records would hide (the rule of indicators.disclosure.statistics)."""
    from .audit import Leak

    first, _last = fiscal_year_bounds(publication.fiscal_year)
    today, _hidden = statistics.compute(
        metric, Period(first, publication.as_of), threshold=threshold
    )
    now = {(s, d, v): value for s, d, v, value in today}
    shown: dict[Any, Any] = {(s, d, v): value for s, d, v, value in publication.figures}
    changed = sum(
        1 for key, was in shown.items() if was is not None and now.get(key) not in (None, was)
    )
    # A figure shown that today's records would hide: pinned at the value shown.
    leaks: list[Any] = [
        ("outsider", Leak(key, 0, float(was), float(was), ()))
        for key, was in shown.items()
        if was is not None and now.get(key) is None
    ]
    hidden = sum(1 for value in shown.values() if value is None)
    return AuditResult(publication, len(shown), hidden, changed, leaks)
