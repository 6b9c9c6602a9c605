"""The registry's building blocks: whose records count (`Scope`), the tables metrics count
over (`Source`) and their breakdown axes (`Dimension`), parameters, measures, and `Metric`
itself with the registry every metric is entered in."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation, Region

from ..periods import Period

# ---------------------------------------------------------------------------- scope


@dataclass(frozen=True)
class Scope:
    """Whose records count: one organisation, a region's organisations, or all."""

    PREFECTURE = "prefecture"
    REGION = "region"
    ORGANISATION = "organisation"

    kind: str = PREFECTURE
    organisation_id: int | None = None
    region_id: int | None = None

    def __post_init__(self) -> None:
        if self.kind == self.ORGANISATION and self.organisation_id is None:
            raise ValueError("organisation scope needs an organisation")
        if self.kind == self.REGION and self.region_id is None:
            raise ValueError("region scope needs a region")
        if self.kind not in (self.PREFECTURE, self.REGION, self.ORGANISATION):
            raise ValueError(f"unknown scope {self.kind!r}")

    def q(self, path: str) -> Q:
        """Rows whose recording organisation (at `path`; "" for the row itself) is in scope."""
        prefix = f"{path}__" if path else ""
        if self.kind == self.ORGANISATION:
            return Q(**{f"{prefix}id": self.organisation_id})
        if self.kind == self.REGION:
            return Q(**{f"{prefix}region_id": self.region_id})
        return Q()

    def label(self) -> str:
        # The id of the scope's kind is set (__post_init__); the checks only say so to mypy.
        if self.kind == self.ORGANISATION and self.organisation_id is not None:
            return str(Organisation.objects.get(pk=self.organisation_id))
        if self.kind == self.REGION and self.region_id is not None:
            return str(Region.objects.get(pk=self.region_id))
        return str(_("県全体"))


# ------------------------------------------------------------------------ dimensions


@dataclass(frozen=True)
class Dimension:
    """A breakdown axis: the grouped expression and how to name its values."""

    key: str
    label: Promise
    path: str
    choices: Mapping[str, Any] | None = None  # value → label; all values listed
    name_path: str | None = None  # related name for organisation/region values
    month: bool = False
    # Rows of organisations and regions are listed in this column's order (the local
    # government code of a municipality, a region's display order), then by name.
    order_path: str | None = None

    @property
    def heading(self) -> str:
        """The column header of the dimension's values: the label less its 別 (月別 → 月,
        居住市町村別 → 居住市町村), but 性別 and 種別 (会議の種別) are words of their own."""
        text = str(self.label)
        if text.endswith(("性別", "種別")):
            return text
        return text.removesuffix("別") or text

    def labels(self, rows: list[dict]) -> dict[Any, str]:
        if self.choices is not None:
            return {key: str(label) for key, label in self.choices.items()}
        if self.name_path:
            return {row["k"]: row["k_name"] for row in rows}
        return {}


def choices_of(enum) -> dict[str, Any]:
    """A choices enum as value → label, for a dimension or a parameter."""
    return dict(enum.choices)


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class Source:
    """A table metrics count over, with its date column and its organisation column."""

    key: str
    queryset: Callable[[], QuerySet]
    organisation_path: str
    date_path: str | None  # None: "as of" metrics filter by their own dates
    timestamp: bool = False
    dimensions: tuple[Dimension, ...] = ()

    def period_q(self, period: Period) -> Q:
        if self.date_path is None:
            return Q()
        if self.timestamp:
            return Q(
                **{
                    f"{self.date_path}__gte": period.start_at,
                    f"{self.date_path}__lt": period.end_before,
                }
            )
        return Q(**{f"{self.date_path}__gte": period.start, f"{self.date_path}__lte": period.end})

    def dimension(self, key: str) -> Dimension:
        for dimension in self.dimensions:
            if dimension.key == key:
                return dimension
        raise KeyError(key)


# --------------------------------------------------------------------------- metrics

TOTAL = "total"  # 延べ: events
DISTINCT = "distinct"  # 実: distinct cases or people
AS_OF = "as_of"  # a state on the last day of the period
MEDIAN = "median"  # a median of one value per row (a `Statistic`, not a count)
SHARE = "share"  # a percentage of the rows (a `Statistic`, not a count)
COUNTING_LABELS = {
    TOTAL: _("延べ"),
    DISTINCT: _("実"),
    AS_OF: _("時点"),
    MEDIAN: _("中央値"),
    SHARE: _("割合"),
}


def count_rows(filter_q: Q | None) -> Count:
    # COUNT(1), not COUNT(id): no column to read, so an index holding the filtered
    # columns answers without the table (the contacts' statistics index).
    return Count(Value(1), filter=filter_q)


@dataclass(frozen=True)
class Distinct:
    """実: how many distinct things the rows name (`path`: a case, a host). With
    `as_people`, a case counts as its client, so that one person's two cases are one
    person, and a case without a client record counts as itself."""

    path: str
    as_people: bool = False

    def __call__(self, filter_q: Q | None) -> Count:
        """The aggregate, for a grouped query (a breakdown)."""
        if not self.as_people:
            return Count(self.path, filter=filter_q, distinct=True)
        named = Q(**{f"{self.path}__isnull": False})
        return Count(
            Coalesce(f"{self.path}__client_id", f"{self.path}_id"),
            filter=named if filter_q is None else filter_q & named,
            distinct=True,
        )


def sum_heads(filter_q: Q | None) -> Sum:
    return Sum("count", filter=filter_q)


@dataclass(frozen=True)
class Statistic:
    """A figure that is not a count (a median, a share): each matching row gives one value
    (`value`, from its `fields`; None leaves the row out) and `summarise` turns the values
    into the figure, with the metric's parameters, in Python. The figure is None when no
    row counts. Statistics of one table that read the same fields are answered together by
    one query (`evaluation.evaluate`); they are never summed (not over organisations, not
    over breakdown rows), so their publication has its own rule
    (indicators.disclosure.statistics)."""

    fields: tuple[str, ...]
    value: Callable[..., int | None]
    summarise: Callable[[list[int], dict[str, list[str]]], Decimal | None]

    def __call__(self, filter_q: Q | None) -> Any:
        raise TypeError("a statistic is summarised in Python, not aggregated in SQL")


@dataclass(frozen=True)
class Param:
    """A metric parameter: a list of allowed values (several may be chosen)."""

    key: str
    label: Promise
    choices: Mapping[str, Any]
    single: bool = False  # one value at most (a threshold, not a filter)

    def q(self, path: str, values: list[str]) -> Q:
        return Q(**{f"{path}__in": values}) if values else Q()


@dataclass(frozen=True, kw_only=True)
class Metric:
    """A named count over one source table; built with keyword arguments only."""

    key: str
    label: Promise
    unit: Promise
    counting: str
    source: Source
    measure: Callable[[Q | None], Any]
    description: Promise
    params: tuple[tuple[Param, str], ...] = ()  # (parameter, field path it filters)
    condition: Callable[[dict[str, list[str]]], Q] = field(default=lambda params: Q())
    as_of: Callable[[dict[str, list[str]], Period], Q] | None = None
    about_people: bool = True  # small cells are suppressed outside the owning organisation
    skip_dimensions: tuple[str, ...] = ()  # breakdowns the condition makes pointless

    @property
    def is_statistic(self) -> bool:
        """A median or share, not a count: never summed (see `Statistic`)."""
        return isinstance(self.measure, Statistic)

    @property
    def statistic(self) -> Statistic:
        if not isinstance(self.measure, Statistic):
            raise TypeError(f"metric {self.key!r} is a count, not a statistic")
        return self.measure

    @property
    def dimensions(self) -> tuple[Dimension, ...]:
        return tuple(d for d in self.source.dimensions if d.key not in self.skip_dimensions)

    def clean_params(self, params: Mapping[str, Any] | None) -> dict[str, list[str]]:
        """Validated parameters; raise ValueError naming what is wrong."""
        allowed = {param.key: param for param, _path in self.params}
        cleaned: dict[str, list[str]] = {}
        for key, value in (params or {}).items():
            if key not in allowed:
                raise ValueError(
                    _("指標「%(metric)s」に条件「%(key)s」はありません。")
                    % {"metric": self.label, "key": key}
                )
            values = [value] if isinstance(value, str) else list(value)
            unknown = [v for v in values if v not in allowed[key].choices]
            if unknown:
                raise ValueError(
                    _("条件「%(key)s」の値が正しくありません：%(values)s")
                    % {"key": allowed[key].label, "values": ", ".join(map(str, unknown))}
                )
            if allowed[key].single and len(set(values)) > 1:
                raise ValueError(
                    _("条件「%(key)s」は1つだけ選んでください。") % {"key": allowed[key].label}
                )
            cleaned[key] = sorted(set(values))
        return cleaned

    def filter(self, params: dict[str, list[str]], period: Period) -> Q:
        q = self.condition(params)
        for param, path in self.params:
            # An empty path marks a parameter the metric's own condition reads.
            if path:
                q &= param.q(path, params.get(param.key, []))
        if self.as_of is not None:
            return q & self.as_of(params, period)
        return q & self.source.period_q(period)

    def describe_params(self, params: dict[str, list[str]]) -> str:
        parts = []
        for param, _path in self.params:
            values = params.get(param.key)
            if values:
                names = "・".join(str(param.choices[v]) for v in values)
                parts.append(f"{param.label}：{names}")
        return "、".join(parts)


REGISTRY: dict[str, Metric] = {}


def register(metric: Metric) -> Metric:
    if metric.key in REGISTRY:
        raise ValueError(f"metric {metric.key!r} registered twice")
    REGISTRY[metric.key] = metric
    return metric


def get(key: str) -> Metric:
    try:
        return REGISTRY[key]
    except KeyError:
        raise ValueError(_("集計項目「%(key)s」はありません。") % {"key": key}) from None
