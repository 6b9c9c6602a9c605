"""The metric registry: every counting rule of the statistics, written once.

A `Metric` is a named count over one `Source` table: a condition on its rows (from the
metric's parameters and the period) and a measure (count of rows = 延べ, count of distinct
cases or people = 実, a sum of head counts, or municipalities as of a date). `evaluate`
takes any number of (metric, parameters, period) cells and answers all of those sharing a
source table with one aggregate query (conditional aggregation; distinct counts in a second
one), so a whole report costs at most two queries per table it touches, whatever the
number of indicators, years or rows.
`breakdown` answers one metric by one dimension (month, channel, municipality, …) with one
grouped query.

Scope is who recorded the data: one organisation, the organisations of a region, or the
whole prefecture. Breakdowns by municipality and region are by where the person lives (for
programmes: where the programme is held).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connections
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation, Region
from casework.models import AgeBand, Case, Channel, Consulter, Contact, Gender, Milestone
from config.routers import statistics_reads
from meetings.models import AgendaItem, Meeting
from outreach.models import Attendance, ParticipantType, Programme, Session, Visit
from referrals.models import Referral

from .periods import Period

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
        if self.kind == self.ORGANISATION:
            return str(Organisation.objects.get(pk=self.organisation_id))
        if self.kind == self.REGION:
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

    def labels(self, rows: list[dict]) -> dict[Any, str]:
        if self.choices is not None:
            return {key: str(label) for key, label in self.choices.items()}
        if self.name_path:
            return {row["k"]: row["k_name"] for row in rows}
        return {}


def _choices(enum) -> dict[str, Any]:
    return dict(enum.choices)


def _month(path: str) -> Dimension:
    return Dimension("month", _("月別"), path, month=True)


def _municipality(path: str, label: Promise | None = None, key: str = "municipality") -> Dimension:
    label = label or _("居住市町村別")
    return Dimension(key, label, path, name_path=f"{path}__name")


def _region(path: str, label: Promise | None = None) -> Dimension:
    label = label or _("圏域別")
    return Dimension("region", label, f"{path}__region", name_path=f"{path}__region__name")


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


# Sources read every organisation's rows (accounts.scoping: `unscoped()`): statistics count
# across organisations by design, narrowed by their Scope; small cells are hidden outside
# the owner (indicators.policy, indicators.suppression).
CONTACTS = Source(
    "contacts",
    lambda: Contact.objects.unscoped(),
    "organisation",
    "occurred_at",
    timestamp=True,
    dimensions=(
        _month("occurred_at"),
        Dimension("channel", _("相談方法別"), "channel", _choices(Channel)),
        Dimension("consulter", _("相談者別"), "consulter", _choices(Consulter)),
        Dimension("kind", _("新規・継続別"), "kind", _choices(Contact.Kind)),
        Dimension("age_band", _("年代別"), "age_band", _choices(AgeBand)),
        Dimension("gender", _("性別"), "gender", _choices(Gender)),
        _municipality("municipality"),
        _region("municipality"),
        _municipality("referring_organisation", _("相談元の機関別"), key="referrer"),
    ),
)
CASES = Source(
    "cases",
    lambda: Case.objects.unscoped().filter(merged_into__isnull=True),
    "organisation",
    "opened_on",
    dimensions=(
        _month("opened_on"),
        Dimension(
            "withdrawal_band",
            _("ひきこもり期間別"),
            "withdrawal_band",
            _choices(Case.WithdrawalBand),
        ),
        _municipality("client__municipality"),
        _region("client__municipality"),
    ),
)
VISITS = Source(
    "visits",
    lambda: Visit.objects.unscoped().filter(status=Visit.Status.DONE),
    "organisation",
    "contact__occurred_at",
    timestamp=True,
    dimensions=(
        _month("contact__occurred_at"),
        Dimension("visit_kind", _("種別"), "kind", _choices(Visit.Kind)),
        Dimension("destination", _("訪問・同行先別"), "destination", _choices(Visit.Destination)),
        _municipality("case__client__municipality"),
        _region("case__client__municipality"),
    ),
)
MEETINGS = Source(
    "meetings",
    lambda: Meeting.objects.unscoped().filter(status=Meeting.Status.HELD),
    "host",
    "held_at",
    timestamp=True,
    dimensions=(
        _month("held_at"),
        Dimension("meeting_kind", _("会議の種別"), "kind", _choices(Meeting.Kind)),
        _region("host", _("開催組織の圏域別")),
    ),
)
AGENDA = Source(
    "agenda",
    lambda: AgendaItem.objects.unscoped().filter(
        meeting__status=Meeting.Status.HELD, meeting__kind=Meeting.Kind.MDT_MONTHLY
    ),
    "meeting__host",
    "meeting__held_at",
    timestamp=True,
    dimensions=(_month("meeting__held_at"),),
)
SESSIONS = Source(
    "sessions",
    lambda: Session.objects.unscoped(),
    "programme__organiser",
    "held_on",
    dimensions=(
        _month("held_on"),
        Dimension("programme_kind", _("事業の種別"), "programme__kind", _choices(Programme.Kind)),
        _municipality("programme__host_municipality", _("開催市町村別")),
        Dimension("region", _("圏域別"), "programme__region", name_path="programme__region__name"),
    ),
)
ATTENDANCE = Source(
    "attendance",
    lambda: Attendance.objects.unscoped(),
    "session__programme__organiser",
    "session__held_on",
    dimensions=(
        _month("session__held_on"),
        Dimension(
            "programme_kind", _("事業の種別"), "session__programme__kind", _choices(Programme.Kind)
        ),
        Dimension(
            "participant_type", _("参加者の区分別"), "participant_type", _choices(ParticipantType)
        ),
        _municipality("residence"),
        Dimension(
            "region",
            _("開催圏域別"),
            "session__programme__region",
            name_path="session__programme__region__name",
        ),
    ),
)
REFERRALS = Source(
    "referrals",
    lambda: Referral.objects.unscoped().filter(sent_at__isnull=False),
    "from_organisation",
    "sent_at",
    timestamp=True,
    dimensions=(
        _month("sent_at"),
        Dimension("referral_kind", _("紹介の種別"), "kind", _choices(Referral.Kind)),
        Dimension("referral_status", _("結果別"), "status", _choices(Referral.Status)),
    ),
)
MILESTONES = Source(
    "milestones",
    lambda: Milestone.objects.unscoped().filter(case__merged_into__isnull=True),
    "case__organisation",
    "achieved_on",
    dimensions=(
        _month("achieved_on"),
        Dimension("milestone_kind", _("到達状況別"), "kind", _choices(Milestone.Kind)),
        _municipality("case__client__municipality"),
        _region("case__client__municipality"),
    ),
)
MUNICIPALITIES = Source(
    "municipalities",
    lambda: Organisation.objects.filter(kind=Organisation.Kind.MUNICIPALITY, is_active=True),
    "",
    None,
    dimensions=(Dimension("region", _("圏域別"), "region", name_path="region__name"),),
)

# --------------------------------------------------------------------------- metrics

TOTAL = "total"  # 延べ: events
DISTINCT = "distinct"  # 実: distinct cases or people
AS_OF = "as_of"  # a state on the last day of the period
COUNTING_LABELS = {TOTAL: _("延べ"), DISTINCT: _("実"), AS_OF: _("時点")}


def _rows(filter_q: Q | None) -> Count:
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


def _heads(filter_q: Q | None) -> Sum:
    return Sum("count", filter=filter_q)


@dataclass(frozen=True)
class Param:
    """A metric parameter: a list of allowed values (several may be chosen)."""

    key: str
    label: Promise
    choices: Mapping[str, Any]

    def q(self, path: str, values: list[str]) -> Q:
        return Q(**{f"{path}__in": values}) if values else Q()


@dataclass(frozen=True)
class Metric:
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
            cleaned[key] = sorted(values)
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


CHANNEL = Param("channel", _("相談方法"), _choices(Channel))
CONSULTER = Param("consulter", _("相談者"), _choices(Consulter))
CONTACT_KIND = Param("kind", _("新規／継続"), _choices(Contact.Kind))
ANONYMOUS = Param(
    "anonymous", _("匿名相談"), {"yes": _("匿名のみ"), "no": _("ケースのある相談のみ")}
)


def _anonymous(params: dict[str, list[str]]) -> Q:
    chosen = set(params.get("anonymous", []))
    if chosen == {"yes"}:
        return Q(case__isnull=True)
    if chosen == {"no"}:
        return Q(case__isnull=False)
    return Q()


register(
    Metric(
        "contacts",
        _("相談件数"),
        _("件"),
        TOTAL,
        CONTACTS,
        _rows,
        _("相談記録の件数（延べ）。匿名の相談を含みます。"),
        params=(
            (CHANNEL, "channel"),
            (CONSULTER, "consulter"),
            (CONTACT_KIND, "kind"),
            (ANONYMOUS, ""),
        ),
        condition=_anonymous,
    )
)
register(
    Metric(
        "municipal_staff_consultations",
        _("市町村担当課等からの個別事例の相談件数"),
        _("件"),
        TOTAL,
        CONTACTS,
        _rows,
        _("相談者が関係機関で、相談元の機関が市町村である相談記録の件数（延べ）。"),
        params=((CHANNEL, "channel"),),
        condition=lambda params: Q(
            consulter=Consulter.AGENCY,
            referring_organisation__kind=Organisation.Kind.MUNICIPALITY,
        ),
    )
)
register(
    Metric(
        "people_supported",
        _("相談支援を行った実人数"),
        _("人"),
        DISTINCT,
        CONTACTS,
        Distinct("case", as_people=True),
        _(
            "期間内に相談記録のある当事者の数（実）。同じ人の複数の相談は1人と数え、"
            "匿名の相談は数えません。"
        ),
        params=((CHANNEL, "channel"),),
    )
)
register(
    Metric(
        "new_consultations",
        _("新規相談件数"),
        _("件"),
        TOTAL,
        CASES,
        _rows,
        _(
            "期間内に受け付けた（受付日が期間内の）ケースの数。重複として統合されたケースは除きます。"
        ),
    )
)
register(
    Metric(
        "outreach_contacts",
        _("アウトリーチによる面談・訪問・同行支援件数"),
        _("件"),
        TOTAL,
        VISITS,
        _rows,
        _("実施済みの訪問・同行支援の件数（延べ）。中止・予定は数えません。"),
        params=((Param("visit_kind", _("種別"), _choices(Visit.Kind)), "kind"),),
    )
)
register(
    Metric(
        "mdt_cases",
        _("多職種連携チームによる支援件数"),
        _("件"),
        DISTINCT,
        AGENDA,
        Distinct("case"),
        _("期間内に開催した多職種連携チーム会議（月例）で検討したケースの数（実件数）。"),
    )
)
MEETING_KIND = Param("meeting_kind", _("会議の種別"), _choices(Meeting.Kind))
register(
    Metric(
        "meetings_held",
        _("会議の開催回数"),
        _("回"),
        TOTAL,
        MEETINGS,
        _rows,
        _("開催済みの会議の回数。"),
        params=((MEETING_KIND, "kind"),),
        about_people=False,
    )
)
register(
    Metric(
        "case_conference_municipalities",
        _("個別ケース会議を開催した市町村数"),
        _("市町村"),
        DISTINCT,
        MEETINGS,
        Distinct("host"),
        _(
            "期間内に個別ケース会議を開催した市町村の数（実）。開催は、会議の日付以後に"
            "議題のケースの議事か登録外の住民の検討件数を記録したときです。"
        ),
        condition=lambda params: Q(
            kind=Meeting.Kind.CASE_CONFERENCE, host__kind=Organisation.Kind.MUNICIPALITY
        ),
        about_people=False,
        skip_dimensions=("meeting_kind",),
    )
)
PROGRAMME_KIND = Param("programme_kind", _("事業の種別"), _choices(Programme.Kind))
register(
    Metric(
        "programme_sessions",
        _("家族教室・居場所等の開催回数"),
        _("回"),
        TOTAL,
        SESSIONS,
        _rows,
        _("家族教室・居場所・講演会等の開催回数。"),
        params=((PROGRAMME_KIND, "programme__kind"),),
        about_people=False,
    )
)
register(
    Metric(
        "programme_attendance",
        _("家族教室・居場所等への参加者数"),
        _("人"),
        TOTAL,
        ATTENDANCE,
        _heads,
        _("各回の参加人数の合計（延べ）。"),
        params=(
            (PROGRAMME_KIND, "session__programme__kind"),
            (
                Param("participant_type", _("参加者の区分"), _choices(ParticipantType)),
                "participant_type",
            ),
        ),
    )
)
register(
    Metric(
        "cross_municipality_use",
        _("居住地外の市町村の事業の利用者数"),
        _("人"),
        TOTAL,
        ATTENDANCE,
        _heads,
        _("居住市町村が分かり、開催市町村と異なる参加者の人数（延べ）。"),
        params=((PROGRAMME_KIND, "session__programme__kind"),),
        condition=lambda params: (
            Q(residence__isnull=False, session__programme__host_municipality__isnull=False)
            & ~Q(residence=F("session__programme__host_municipality"))
        ),
    )
)
register(
    Metric(
        "referrals",
        _("他機関への紹介件数"),
        _("件"),
        TOTAL,
        REFERRALS,
        _rows,
        _("期間内に送付した紹介の件数。結果（受理・辞退・完了等）は現在の状態です。"),
        params=(
            (Param("referral_kind", _("紹介の種別"), _choices(Referral.Kind)), "kind"),
            (Param("referral_status", _("結果"), _choices(Referral.Status)), "status"),
        ),
    )
)
MILESTONE_KIND = Param("milestone_kind", _("到達状況"), _choices(Milestone.Kind))
register(
    Metric(
        "support_connections",
        _("居場所等の支援につながった人数"),
        _("人"),
        DISTINCT,
        MILESTONES,
        Distinct("case"),
        _(
            "期間内に選んだ到達状況（既定：居場所につながった）を記録したケースの数（実）。"
            "同じケースの同じ期間の複数の記録は1人と数えます。"
        ),
        params=((MILESTONE_KIND, "kind"),),
        condition=lambda params: (
            Q() if params.get("milestone_kind") else Q(kind=Milestone.Kind.IBASHO)
        ),
    )
)


def _after_intermediate_work(params: dict[str, list[str]]) -> Q:
    earlier = Milestone.objects.unscoped().filter(
        case=OuterRef("case"),
        kind=Milestone.Kind.INTERMEDIATE_WORK,
        achieved_on__lte=OuterRef("achieved_on"),
    )
    return Q(kind=Milestone.Kind.EMPLOYED) & Q(Exists(earlier))


register(
    Metric(
        "employment_after_intermediate_work",
        _("中間的就労等を経て就労した人数"),
        _("人"),
        DISTINCT,
        MILESTONES,
        Distinct("case"),
        _(
            "期間内に「就労した」を記録したケースのうち、それ以前に「中間的就労を開始」の記録があるものの数（実）。"
        ),
        condition=_after_intermediate_work,
        skip_dimensions=("milestone_kind",),
    )
)

READINESS = {
    "consultation_window": ("consultation_window_established_on", _("相談窓口の明確化")),
    "needs_survey": ("needs_survey_done_on", _("実態把握の実施")),
    "platform": ("platform_established_on", _("プラットフォームの設置")),
}
READINESS_STEP = Param("step", _("取組"), {key: label for key, (_f, label) in READINESS.items()})


def _readiness_as_of(params: dict[str, list[str]], period: Period) -> Q:
    """Municipalities that had reached every chosen step (default: a window) by the end."""
    q = Q()
    for step in params.get("step") or ["consultation_window"]:
        q &= Q(**{f"{READINESS[step][0]}__lte": period.end})
    return q


register(
    Metric(
        "municipal_readiness",
        _("相談窓口等を整備した市町村数"),
        _("市町村"),
        AS_OF,
        MUNICIPALITIES,
        _rows,
        _(
            "期間の末日の時点で、選んだ取組（既定：相談窓口の明確化）をすべて済ませていた市町村の数。"
        ),
        params=((READINESS_STEP, ""),),
        as_of=_readiness_as_of,
        about_people=False,
    )
)

# ------------------------------------------------------------------------ evaluation


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
