"""Progress reports (実績・目標・達成割合) and metric breakdowns, built with a fixed number of
queries: the plan's rows (indicators, targets, entered values, assessments, the submitted
snapshot) and one aggregate query per source table the indicators count over."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _

from config.database import longer_statement_timeout
from tabular import SUPPRESSED, Table

from . import metrics
from .models import Assessment, Indicator, ManualValue, Plan, Snapshot, Status, Target
from .periods import Period, era_label

PRIOR_YEARS = 2
HUNDRED = Decimal(100)
SUPPRESSION_NOTE = _(
    "x：3未満の値、及びその値が他の値から計算できないよう併せて秘匿した値（秘匿処理）。"
)


def ratio(actual: Decimal | None, *, target: Decimal | None) -> Decimal | None:
    """A/B in percent, one decimal, half up; none without a positive target."""
    if actual is None or target is None or target <= 0:
        return None
    return (Decimal(actual) * HUNDRED / Decimal(target)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def _number(value: Decimal | int | None) -> int | Decimal | None:
    if value is None:
        return None
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else value


def _with_unit(value: Decimal | int | None, *, unit: str) -> str:
    if value is None:
        return "—"
    number = _number(value)
    text = f"{number:,}" if isinstance(number, int) else f"{number:,.2f}".rstrip("0").rstrip(".")
    return f"{text}{unit}"


@dataclass
class Figure:
    """A number as a viewer may see it."""

    value: Decimal | None
    suppressed: bool = False

    @property
    def shown(self) -> Any:
        if self.suppressed:
            return SUPPRESSED
        return _number(self.value)


@dataclass
class ProgressRow:
    indicator: Indicator
    prior: list[tuple[int, Figure]]
    actual: Figure  # this year's own figure (up to the as-of date)
    cumulative: Figure | None  # plan years to date, for cumulative indicators
    target: Decimal | None
    cumulative_target: Decimal | None
    ratio: Decimal | None  # raw A/B %
    ratio_shown: Decimal | None  # as the format shows it (capped when the indicator caps)
    computed_status: str | None
    status: str | None
    assessment: Assessment | None
    submitted: dict[str, Any] | None = None  # snapshot figures for this row, if any
    changed: bool = False

    @property
    def achieved(self) -> Figure:
        """A of A/B: the cumulative figure for cumulative indicators."""
        return self.cumulative if self.cumulative is not None else self.actual

    @property
    def overridden(self) -> bool:
        return bool(self.assessment and self.assessment.status_override)

    @property
    def status_label(self) -> str:
        return str(Status(self.status).label) if self.status else ""

    def target_text(self) -> str:
        """1,800件, or for cumulative indicators 1,800件(3,600件)."""
        unit = self.indicator.unit
        if self.target is None:
            return "—"
        if self.cumulative_target is not None:
            target, cumulative = self.target, self.cumulative_target
            return f"{_with_unit(target, unit=unit)}({_with_unit(cumulative, unit=unit)})"
        return _with_unit(self.target, unit=unit)

    def actual_cell(self) -> Any:
        if self.cumulative is None:
            return self.actual.shown
        if self.actual.suppressed or self.cumulative.suppressed:
            return SUPPRESSED
        unit = self.indicator.unit
        actual, cumulative = self.actual.value, self.cumulative.value
        return f"{_with_unit(actual, unit=unit)}({_with_unit(cumulative, unit=unit)})"


@dataclass
class ProgressReport:
    plan: Plan
    year: int
    period: Period
    rows: list[ProgressRow]
    exact: bool
    snapshot: Snapshot | None
    snapshots: list[Snapshot] = field(default_factory=list)

    @property
    def prior_years(self) -> list[int]:
        return [self.year - k for k in range(PRIOR_YEARS, 0, -1)]

    def table(self) -> Table:
        table = Table(
            title=_("%(plan)s 進捗状況") % {"plan": self.plan.name},
            heading=[
                _("計画期間：%(period)s") % {"period": self.plan.period_label()},
                _("集計範囲：%(scope)s") % {"scope": self.plan.scope.label()},
                _("対象期間：%(period)s") % {"period": self.period.label()},
            ],
            columns=[
                _("取組方向"),
                _("指標番号"),
                _("指標"),
                _("単位"),
                _("数え方"),
                *[_("%(year)s実績") % {"year": era_label(y)} for y in self.prior_years],
                _("実績値(A)"),
                _("目標値(B)"),
                _("達成割合A/B(%)"),
                _("達成割合（様式上）(%)"),
                _("進捗状況"),
                _("備考"),
            ],
        )
        table.rows = [self._table_row(row) for row in self.rows]
        if not self.exact:
            table.notes.append(SUPPRESSION_NOTE)
        table.notes.append(
            _(
                "達成割合（様式上）は、上限を100%とする指標では100%で止めた値です。判定は実際の割合によります。"
            )
        )
        return table

    def _table_row(self, row: ProgressRow) -> list[Any]:
        indicator = row.indicator
        hide_ratio = row.achieved.suppressed and row.target is not None
        return [
            str(indicator.direction),
            indicator.code,
            indicator.name,
            indicator.unit,
            indicator.get_counting_display() if indicator.counting else "",
            *[figure.shown for _year, figure in row.prior],
            row.actual_cell(),
            row.target_text(),
            SUPPRESSED if hide_ratio else row.ratio,
            SUPPRESSED if hide_ratio else row.ratio_shown,
            row.status_label,
            "；".join(self._notes(row)),
        ]

    def _notes(self, row: ProgressRow) -> list[str]:
        """The remarks column: entered by hand, cumulative since, overridden, changed."""
        notes = []
        if row.indicator.is_manual:
            notes.append(_("手入力"))
        if row.indicator.is_cumulative:
            notes.append(_("累計：%(first)s～") % {"first": era_label(self.plan.first_year)})
        if row.overridden:
            notes.append(
                _("手動判定（自動判定：%(auto)s）") % {"auto": _status_label(row.computed_status)}
            )
        if row.changed:
            if self.exact and row.submitted is not None:
                notes.append(
                    _("提出時：%(value)s") % {"value": row.submitted.get("actual_text", "")}
                )
            else:
                notes.append(_("提出後に変更あり"))
        return notes

    def figures(self) -> dict[str, Any]:
        """What a snapshot freezes: the table and each indicator's numbers."""
        return {
            "table": self.table().as_json(),
            "rows": {
                str(row.indicator.pk): {
                    "actual": _str(row.actual.value),
                    "cumulative": _str(row.cumulative.value) if row.cumulative else None,
                    "target": _str(row.target),
                    "ratio": _str(row.ratio),
                    "status": row.status,
                    "actual_text": str(row.actual_cell()),
                }
                for row in self.rows
            },
        }


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _status_label(status: str | None) -> str:
    return str(Status(status).label) if status else "—"


@dataclass
class _PlanRecords:
    """What the plan stores for the report: targets, entered values and assessments by
    (indicator, year), and this year's submitted snapshots."""

    targets: dict[tuple[int, int], Decimal]
    manual: dict[tuple[int, int], Decimal]
    assessments: dict[tuple[int, int], Assessment]
    snapshots: list[Snapshot]

    @classmethod
    def load(cls, plan: Plan, year: int) -> _PlanRecords:
        return cls(
            targets={
                (t.indicator_id, t.fiscal_year): t.value for t in Target.objects.of_plan(plan)
            },
            manual={
                (m.indicator_id, m.fiscal_year): m.value for m in ManualValue.objects.of_plan(plan)
            },
            assessments={
                (a.indicator_id, a.fiscal_year): a
                for a in Assessment.objects.of_plan(plan).filter(fiscal_year=year)
            },
            snapshots=list(
                Snapshot.objects.of_plan(plan)
                .filter(fiscal_year=year)
                .select_related("submitted_by")
            ),
        )


@dataclass
class _Values:
    """Every indicator's value for each year the report shows, and how a viewer sees it:
    counted for exact viewers, else read from the publications (None where hidden)."""

    records: _PlanRecords
    computed: dict[tuple[int, int], int | None]  # (indicator, year) → counted figure
    exact: bool

    @classmethod
    def count(
        cls,
        plan: Plan,
        *,
        indicators: list[Indicator],
        periods: dict[int, Period],
        records: _PlanRecords,
        exact: bool,
    ) -> _Values:
        """One evaluation per distinct scope (the plan's, and any indicator counting one
        organisation only): a query per source table and scope, never per indicator."""
        counted = [indicator for indicator in indicators if not indicator.is_manual]
        published: dict[tuple[int, int], int | None] = {}
        if not exact:  # counts about people come from the publications; the rest counted
            about_people = [i for i in counted if metrics.get(i.metric).about_people]
            published = _published_values(plan, about_people, periods)
            counted = [i for i in counted if i not in about_people]
        cells = {(i.pk, y): i.cell(p) for i in counted for y, p in periods.items()}
        by_scope: dict[metrics.Scope, list[metrics.Cell]] = {}
        for indicator in counted:
            by_scope.setdefault(indicator.scope(plan), []).extend(
                cells[(indicator.pk, y)] for y in periods
            )
        figures = {
            scope: metrics.evaluate(scope_cells, scope) for scope, scope_cells in by_scope.items()
        }
        computed: dict[tuple[int, int], int | None] = {
            (i.pk, y): figures[i.scope(plan)][cells[(i.pk, y)]] for i in counted for y in periods
        }
        return cls(records, computed | published, exact)

    def value(self, indicator: Indicator, *, year: int) -> Decimal | None:
        if indicator.is_manual:
            return self.records.manual.get((indicator.pk, year))
        counted = self.computed[(indicator.pk, year)]
        return None if counted is None else Decimal(counted)

    def figure(self, indicator: Indicator, *, year: int) -> Figure:
        amount = self.value(indicator, year=year)
        hidden = not indicator.is_manual and self.computed[(indicator.pk, year)] is None
        if hidden and self.exact and metrics.get(indicator.metric).is_statistic:
            hidden = False  # a median of no rows: no figure ("—"), nothing hidden
        return Figure(amount, hidden)


def _published_values(
    plan: Plan, indicators: list[Indicator], periods: dict[int, Period]
) -> dict[tuple[int, int], int | None]:
    """Each counted indicator's published figure per year (None: hidden, not published
    yet, or not a question the publications answer, such as one organisation's figure).
    The report's year is cut where its publication is; other years are whole."""
    from .disclosure.publication import published_of

    by_metric = published_of({indicator.metric for indicator in indicators}, periods)
    values: dict[tuple[int, int], int | None] = {}
    for indicator in indicators:
        scope = indicator.scope(plan)
        for year in periods:
            publication = by_metric[indicator.metric][year]
            if publication.period != periods[year]:
                values[(indicator.pk, year)] = None  # not published to this cut (yet)
                continue
            params = indicator.cell(periods[year]).param_dict
            values[(indicator.pk, year)] = publication.cell(params, scope)
    return values


@longer_statement_timeout()  # a fiscal year's counts over every contact
def progress_report(
    plan: Plan,
    *,
    year: int,
    as_of: datetime.date | None = None,
    exact: bool,
) -> ProgressReport:
    """The plan's progress table for fiscal `year` (cut at `as_of`).

    Prior years are whole years. Cumulative indicators add up the plan's years from its
    first to this one, this one cut at the as-of date. `exact` is False for viewers outside
    the owning organisation: they read the publications (indicators.disclosure), cut at
    the year's end or, for the current year, at the last month end; an earlier as-of
    date is not published (NotPublished).
    """
    from .disclosure.publication import published_cut

    period = Period.fiscal(year, as_of) if exact else published_cut(year, as_of)
    indicators = list(
        Indicator.objects.of_plan(plan)
        .select_related("direction")
        .order_by("direction__number", "sort_order", "code")
    )
    years_needed = set(range(year - PRIOR_YEARS, year + 1)) | {y for y in plan.years if y <= year}
    periods = {y: Period.fiscal(y) if y != year else period for y in years_needed}
    records = _PlanRecords.load(plan, year)
    snapshot = next((s for s in records.snapshots if s.as_of == period.end), None)
    values = _Values.count(
        plan,
        indicators=indicators,
        periods=periods,
        records=records,
        exact=exact,
    )
    rows = [
        _progress_row(indicator, plan=plan, year=year, values=values, snapshot=snapshot)
        for indicator in indicators
    ]
    return ProgressReport(plan, year, period, rows, exact, snapshot, records.snapshots)


def _progress_row(
    indicator: Indicator, *, plan: Plan, year: int, values: _Values, snapshot: Snapshot | None
) -> ProgressRow:
    """One indicator's line: this year's figure against its target, the status, and how
    it compares with the submitted snapshot."""
    targets = values.records.targets
    actual = values.figure(indicator, year=year)
    target = targets.get((indicator.pk, year))
    cumulative = cumulative_target = None
    if indicator.is_cumulative:
        plan_years = [y for y in plan.years if y <= year]
        years = [values.figure(indicator, year=y) for y in plan_years]
        # Hidden when any year's figure is: a cumulative figure less the shown years
        # would give the hidden one.
        hidden = any(figure.suppressed for figure in years)
        cumulative = Figure(
            None if hidden else sum((f.value for f in years if f.value is not None), Decimal(0)),
            hidden,
        )
        if target is not None:
            shares = [targets.get((indicator.pk, y)) for y in plan_years]
            cumulative_target = sum((s for s in shares if s is not None), Decimal(0))
    achieved = cumulative if cumulative is not None else actual
    b = cumulative_target if cumulative_target is not None else target
    # A ratio or a status band of a hidden figure would give it (1.0 % of 100 is 1).
    raw = None if achieved.suppressed else ratio(achieved.value, target=b)
    computed_status = None if achieved.suppressed else plan.status_for(raw)
    assessment = values.records.assessments.get((indicator.pk, year))
    row = ProgressRow(
        indicator=indicator,
        prior=[(y, values.figure(indicator, year=y)) for y in range(year - PRIOR_YEARS, year)],
        actual=actual,
        cumulative=cumulative,
        target=target,
        cumulative_target=cumulative_target,
        ratio=raw,
        ratio_shown=min(raw, HUNDRED) if raw is not None and indicator.cap_ratio else raw,
        computed_status=computed_status,
        status=assessment.status_override
        if assessment and assessment.status_override
        else computed_status,
        assessment=assessment,
    )
    if snapshot is not None and values.exact:
        row.submitted = snapshot.figures.get("rows", {}).get(str(indicator.pk))
        if row.submitted is not None:
            row.changed = row.submitted.get("actual") != _str(actual.value) or (
                row.submitted.get("cumulative") != (_str(cumulative.value) if cumulative else None)
            )
    return row


# ------------------------------------------------------------------------- breakdowns


@dataclass
class DimensionFigures:
    """One breakdown as figures a viewer may see, keyed as the metric registry keys them."""

    dimension: metrics.Dimension
    rows: list[tuple[metrics.BreakdownRow, Figure]]
    total: Figure


@dataclass
class Breakdown:
    cell: metrics.Cell
    scope: metrics.Scope
    total: Figure
    tables: list[tuple[metrics.Dimension, Table]]
    monthly: list[tuple[datetime.date, Figure]]
    dimensions: list[DimensionFigures] = field(default_factory=list)


def _breakdown_table(
    metric: metrics.Metric, dimension: metrics.Dimension, heading: list[str]
) -> Table:
    """The empty table of one breakdown, as exact and published breakdowns show it."""
    return Table(
        title=f"{metric.label}（{dimension.label}）",
        heading=heading,
        columns=[
            dimension.heading,
            f"{metric.label}（{metric.unit}）",
        ],
    )


@longer_statement_timeout()
def metric_breakdown(
    cell: metrics.Cell,
    *,
    scope: metrics.Scope,
    exact: bool,
) -> Breakdown:
    """A metric's total and its breakdown by every dimension its table has: one query for
    the total and one per dimension when `exact`, else the publication's figures
    (`published_breakdown`)."""
    if not exact and cell.metric.about_people:
        return published_breakdown(cell, scope=scope)
    metric = cell.metric
    total_value = metrics.evaluate([cell], scope)[cell]
    tables: list[tuple[metrics.Dimension, Table]] = []
    monthly: list[tuple[datetime.date, Figure]] = []
    dimensions: list[DimensionFigures] = []
    heading = [
        _("集計範囲：%(scope)s") % {"scope": scope.label()},
        _("対象期間：%(period)s") % {"period": cell.period.label()},
        _("数え方：%(counting)s") % {"counting": metrics.COUNTING_LABELS[metric.counting]},
    ]
    if cell.params:
        heading.append(_("条件：%(params)s") % {"params": metric.describe_params(cell.param_dict)})
    for dimension in metric.dimensions:
        rows = metrics.breakdown(cell, scope, dimension.key)
        table = _breakdown_table(metric, dimension, heading)
        for row in rows:
            table.rows.append([row.label, row.value])
        table.rows.append([_total_label(metric), total_value])
        table.total_rows = 1
        if metric.counting == metrics.DISTINCT:
            table.notes.append(_("実数のため、内訳の合計は合計欄と一致しないことがあります。"))
        if metric.is_statistic:
            table.notes.append(STATISTIC_NOTE)
        tables.append((dimension, table))
        figures = [(row, _exact(row.value)) for row in rows]
        dimensions.append(DimensionFigures(dimension, figures, _exact(total_value)))
        if dimension.month:
            monthly = [(row.key, figure) for row, figure in figures]
    return Breakdown(cell, scope, _exact(total_value), tables, monthly, dimensions)


STATISTIC_SUPPRESSION_NOTE = _(
    "x：公表の条件（10件以上で、最も多い組織以外の件数が3件以上）を満たさない値。"
)
STATISTIC_NOTE = _("中央値・割合は各行ごとに計算した値で、足し合わせられません（空欄：該当なし）。")


def _exact(value: Any) -> Figure:
    """A counted figure; a statistic without rows has none (shown blank, not hidden)."""
    return Figure(None if value is None else Decimal(value))


def _total_label(metric: metrics.Metric) -> str:
    return _("全体") if metric.is_statistic else _("合計")


def published_breakdown(cell: metrics.Cell, *, scope: metrics.Scope) -> Breakdown:
    """What a viewer without exact figures gets of a metric: the stored publication
    (indicators.disclosure.publication) of the cell's fiscal year, for a region or the
    prefecture, without conditions (each condition's value is a row of the breakdowns).
    Anything else raises NotPublished with the reason."""
    from .disclosure.publication import NotPublished, for_period

    metric = cell.metric
    if cell.params:
        raise NotPublished(
            _(
                "条件を付けた集計は、所属組織の数値でのみできます。"
                "条件の値ごとの数値は内訳表の各行をご覧ください。"
            )
        )
    publication = for_period(metric.key, cell.period, scope)
    cell = metrics.Cell.of(metric.key, {}, publication.period or cell.period)

    def figure(dimension: str = "", value: Any = None) -> Figure:
        shown = publication.figure(scope, dimension, value)
        return Figure(None if shown is None else Decimal(shown), shown is None)

    total = figure()
    heading = [
        _("集計範囲：%(scope)s") % {"scope": scope.label()},
        _("対象期間：%(period)s") % {"period": cell.period.label()},
        _("数え方：%(counting)s") % {"counting": metrics.COUNTING_LABELS[metric.counting]},
    ]
    tables: list[tuple[metrics.Dimension, Table]] = []
    monthly: list[tuple[datetime.date, Figure]] = []
    dimensions: list[DimensionFigures] = []
    for dimension in metric.dimensions:
        keys = publication.values(scope, dimension.key)
        if not keys:
            continue  # not published (the current year's breakdowns wait for its end)
        labels = _row_labels(metric, dimension, keys)
        rows = [
            (
                metrics.BreakdownRow(_row_key(dimension, key), labels[key], 0),
                figure(dimension.key, key),
            )
            for key in keys
        ]
        table = _breakdown_table(metric, dimension, heading)
        for row, shown in rows:
            table.rows.append([row.label, shown.shown])
        table.rows.append([_total_label(metric), total.shown])
        table.total_rows = 1
        if metric.counting == metrics.DISTINCT:
            table.notes.append(_("実数のため、内訳の合計は合計欄と一致しないことがあります。"))
        if metric.is_statistic:
            table.notes.extend([STATISTIC_NOTE, STATISTIC_SUPPRESSION_NOTE])
        elif metric.about_people:
            table.notes.append(SUPPRESSION_NOTE)
        tables.append((dimension, table))
        dimensions.append(DimensionFigures(dimension, rows, total))
        if dimension.month:
            monthly = [(row.key, shown) for row, shown in rows]
    if not publication.is_closed and metric.about_people:
        for _dimension, table in tables:
            table.notes.append(PUBLICATION_NOTE)
    return Breakdown(cell, scope, total, tables, monthly, dimensions)


PUBLICATION_NOTE = _("今年度の内訳は月別のみ公表し、その他の内訳は年度終了後に公表します。")


def _row_key(dimension: metrics.Dimension, key: Any) -> Any:
    return datetime.date.fromisoformat(key) if dimension.month and key else key


def _row_labels(
    metric: metrics.Metric, dimension: metrics.Dimension, keys: list[Any]
) -> dict[Any, str]:
    """Names of a publication's rows: months and choices from the registry, organisations,
    municipalities and regions from their tables."""
    unknown = str(_("不明・該当なし"))
    if dimension.month:
        return {k: f"{_row_key(dimension, k).year}年{_row_key(dimension, k).month}月" for k in keys}
    if dimension.choices is not None:
        return {k: str(dimension.choices.get(k, k)) if k is not None else unknown for k in keys}
    named: dict[Any, str] = {}
    if dimension.name_path:
        named = dict(
            metric.source.queryset()
            .filter(**{f"{dimension.path}__in": [k for k in keys if k is not None]})
            .values_list(dimension.path, dimension.name_path)
            .distinct()
        )
    return {k: named.get(k) or unknown for k in keys}
