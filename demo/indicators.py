"""Demo plans modelled on the plan documents the product is built from: a monitoring plan
with six directions (Mie), a target-driven plan (Kochi: new consultations ≥ 200, ibasho
connections ≥ 100, employment ≥ 10, case conferences in all municipalities) and
verification-sheet indicators (Okinawa: 1,800 consultations a year, cumulative, ratio
capped at 100%). Periods run from the previous fiscal year, so the demo records count.

Each plan is a table of its indicators (keyword fields, as on the indicator form) and a
function that creates it; does nothing when plans already exist."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from accounts.models import Organisation, User
from casework.periods import fiscal_year
from indicators.models import (
    Assessment,
    Direction,
    Indicator,
    ManualValue,
    Plan,
    Status,
    Target,
)

from .context import SeedContext

TOTAL, DISTINCT = Indicator.Counting.TOTAL, Indicator.Counting.DISTINCT

# 1. Mie: monitoring indicators by six directions, no targets ("モニタリング指標").
# {direction: [indicator fields, in their order within the direction]}
MONITORING: dict[str, list[dict[str, Any]]] = {
    "情報発信・普及啓発": [
        {
            "code": "1-1",
            "name": "ひきこもり支援に関する講演会等への参加者数",
            "unit": "人",
            "counting": TOTAL,
            "metric": "programme_attendance",
            "metric_params": {"programme_kind": ["lecture"]},
        },
        {"code": "1-2", "name": "SNSアカウントにおける投稿件数", "unit": "件"},
    ],
    "対象者の状況把握・早期対応": [
        {
            "code": "2-1",
            "name": "市町における相談窓口の設置数",
            "unit": "市町",
            "counting": Indicator.Counting.AS_OF,
            "metric": "municipal_readiness",
            "metric_params": {"step": ["consultation_window"]},
            "baseline": Decimal(20),
            "baseline_label": "R3",
        },
        {
            "code": "2-2",
            "name": "市町プラットフォームの設置・運営数",
            "unit": "市町",
            "counting": Indicator.Counting.AS_OF,
            "metric": "municipal_readiness",
            "metric_params": {"step": ["platform"]},
            "baseline": Decimal(19),
            "baseline_label": "R3",
        },
        {
            "code": "2-3",
            "name": "相談支援機関における新規相談件数",
            "unit": "件",
            "counting": TOTAL,
            "metric": "new_consultations",
        },
        {
            "code": "2-4",
            "name": "不登校児童生徒が学校内外の機関等で相談・指導等を受けた割合（小学生）",
            "unit": "%",
            "baseline": Decimal("72.9"),
            "baseline_label": "R2",
        },
    ],
    "家族支援": [
        {
            "code": "3-1",
            "name": "ひきこもり地域支援センターにおける専門相談件数（延べ）",
            "unit": "件",
            "counting": TOTAL,
            "metric": "contacts",
            "at_centre": True,  # counts the centre's own contacts only
            "baseline": Decimal(275),
            "baseline_label": "R2",
        },
        {
            "code": "3-2",
            "name": "家族教室への参加者数（延べ）",
            "unit": "人",
            "counting": TOTAL,
            "metric": "programme_attendance",
            "metric_params": {"programme_kind": ["family_class"]},
            "baseline": Decimal(42),
            "baseline_label": "R2",
        },
    ],
    "当事者支援": [
        {
            "code": "4-1",
            "name": "多職種連携チームによる支援件数（実件数）",
            "unit": "件",
            "counting": DISTINCT,
            "metric": "mdt_cases",
        },
        {
            "code": "4-2",
            "name": "アウトリーチ支援員による面談・訪問・同行支援件数（延べ）",
            "unit": "件",
            "counting": TOTAL,
            "metric": "outreach_contacts",
            "baseline": Decimal(94),
            "baseline_label": "R2",
        },
        {
            "code": "4-3",
            "name": "不登校支援アドバイザー等による訪問型支援の実施回数",
            "unit": "回",
            "baseline": Decimal(134),
            "baseline_label": "R2",
        },
    ],
    "社会参加支援": [
        {
            "code": "5-1",
            "name": "ひきこもり当事者のための居場所数",
            "unit": "か所",
            "baseline": Decimal(6),
            "baseline_label": "R2",
        },
        {
            "code": "5-2",
            "name": "居場所の居住市町外からの利用者数（延べ）",
            "unit": "人",
            "counting": TOTAL,
            "metric": "cross_municipality_use",
            "metric_params": {"programme_kind": ["ibasho", "online_ibasho"]},
        },
        {
            "code": "5-3",
            "name": "居場所につながった人数（実）",
            "unit": "人",
            "counting": DISTINCT,
            "metric": "support_connections",
        },
    ],
    "多様な担い手の育成・確保": [
        {
            "code": "6-1",
            "name": "相談支援包括化推進員養成数",
            "unit": "人",
            "baseline": Decimal(56),
            "baseline_label": "R2",
        },
        {
            "code": "6-2",
            "name": "ひきこもりサポーター養成研修の参加者数（延べ）",
            "unit": "人",
            "counting": TOTAL,
            "metric": "programme_attendance",
            "metric_params": {"programme_kind": ["supporter_training"]},
        },
    ],
}
# The monitoring indicators with no metric, entered by hand: (code, (previous year's
# value, this year's or None), where the figure comes from).
MANUAL_VALUES: list[tuple[str, tuple[int | Decimal | None, int | Decimal | None], str]] = [
    ("1-2", (48, 31), "広報担当課の投稿記録"),
    ("2-4", (Decimal("73.4"), None), "児童生徒の問題行動・不登校等生徒指導上の諸課題に関する調査"),
    ("4-3", (141, 88), "教育委員会からの報告"),
    ("5-1", (7, 8), "県所管課の把握数"),
    ("6-1", (61, 24), "養成研修の修了者名簿"),
]

# 2. Kochi: targets over the whole prefecture, by direction: (indicator fields, yearly
# target; None: every municipality).
TARGETS: dict[str, list[tuple[dict[str, Any], int | None]]] = {
    "相談支援体制の充実": [
        (
            {
                "code": "1-1",
                "name": "新規相談件数",
                "unit": "件",
                "counting": TOTAL,
                "metric": "new_consultations",
            },
            200,
        ),
        (
            {
                "code": "1-2",
                "name": "ひきこもりのケース会議を実施した市町村数",
                "unit": "市町村",
                "counting": DISTINCT,
                "metric": "case_conference_municipalities",
                "baseline": Decimal(10),
                "baseline_label": "R1",
            },
            None,
        ),
    ],
    "多様な社会参加に向けた支援の充実": [
        (
            {
                "code": "2-1",
                "name": "居場所等の支援につながった件数",
                "unit": "件",
                "counting": DISTINCT,
                "metric": "support_connections",
                "metric_params": {"milestone_kind": ["ibasho", "welfare_service"]},
            },
            100,
        ),
        (
            {
                "code": "2-2",
                "name": "中間的就労等を経て就労した人数",
                "unit": "人",
                "counting": DISTINCT,
                "metric": "employment_after_intermediate_work",
            },
            10,
        ),
    ],
}

# 3. Okinawa: verification sheets for the centre's own window, cumulative and capped:
# (indicator fields, yearly target).
VERIFICATION: list[tuple[dict[str, Any], int]] = [
    (
        {
            "code": "③-1",
            "name": "相談対応件数（累計）",
            "unit": "件",
            "counting": TOTAL,
            "metric": "contacts",
            "accumulation": Indicator.Accumulation.CUMULATIVE,
            "cap_ratio": True,
            "activity": "中高年を含むひきこもり状態にある本人や家族等からの相談に対応し、"
            "医療・保健・福祉・教育・労働など適切な関係機関への紹介を行う。",
        },
        1800,
    ),
    (
        {
            "code": "③-2",
            "name": "市町村担当課等からの個別事例の相談件数",
            "unit": "件",
            "counting": TOTAL,
            "metric": "municipal_staff_consultations",
            "cap_ratio": True,
            "activity": "市町村との連携体制を強化し、個別事例の相談に応じる。",
        },
        30,
    ),
    (
        {
            "code": "③-3",
            "name": "支援ネットワーク会議の開催回数（累計）",
            "unit": "回",
            "counting": TOTAL,
            "metric": "meetings_held",
            "metric_params": {"meeting_kind": ["network"]},
            "accumulation": Indicator.Accumulation.CUMULATIVE,
            "cap_ratio": True,
            "activity": "地域連絡協議会・支援ネットワーク会議を開催し、顔の見える関係をつくる。",
        },
        4,
    ),
]


def seed(context: SeedContext) -> None:
    if Plan.objects.exists():
        return
    centre = context.organisations["centre"]
    supervisor = context.users["supervisor"]
    this_year = fiscal_year(context.today)
    municipalities = Organisation.objects.filter(kind=Organisation.Kind.MUNICIPALITY).count()
    _monitoring_plan(centre, supervisor, this_year)
    _target_plan(centre, this_year, municipalities)
    _verification_plan(centre, supervisor, this_year)
    context.counts["plans"] = Plan.objects.count()
    context.counts["indicators"] = Indicator.objects.count()


def _plan(centre: Organisation, this_year: int, **fields: Any) -> Plan:
    """A plan of the centre from the previous fiscal year to the next."""
    return Plan.objects.create(
        organisation=centre, first_year=this_year - 1, last_year=this_year + 1, **fields
    )


def _indicator(direction: Direction, order: int, **fields: Any) -> Indicator:
    return Indicator.objects.create(direction=direction, sort_order=order, **fields)


def _monitoring_plan(centre: Organisation, supervisor: User, this_year: int) -> None:
    plan = _plan(
        centre,
        this_year,
        name="【デモ】ひきこもり支援推進計画（モニタリング指標）",
        description="取組方向ごとのモニタリング指標。目標値は設定せず、現状値と推移を見ます。",
    )
    directions = [
        Direction.objects.create(plan=plan, number=number, name=name)
        for number, name in enumerate(MONITORING, start=1)
    ]
    by_code = {}
    for direction, rows in zip(directions, MONITORING.values(), strict=True):
        for order, row in enumerate(rows, start=1):
            fields = dict(row)
            if fields.pop("at_centre", False):
                fields["organisation"] = centre
            by_code[row["code"]] = _indicator(direction, order, **fields)
    for code, values, note in MANUAL_VALUES:
        for year, value in zip((this_year - 1, this_year), values, strict=True):
            if value is not None:
                ManualValue.objects.create(
                    indicator=by_code[code],
                    fiscal_year=year,
                    value=Decimal(value),
                    source_note=f"【デモ】{note}",
                    entered_by=supervisor,
                )


def _target_plan(centre: Organisation, this_year: int, municipalities: int) -> None:
    plan = _plan(
        centre,
        this_year,
        name="【デモ】ひきこもり支援の目標値（県全体）",
        description="新規相談・居場所等への接続・中間的就労を経た就労・全市町村でのケース会議。",
    )
    directions = [
        Direction.objects.create(plan=plan, number=number, name=name)
        for number, name in enumerate(TARGETS, start=1)
    ]
    targets = [
        (_indicator(direction, order, **fields), municipalities if value is None else value)
        for direction, rows in zip(directions, TARGETS.values(), strict=True)
        for order, (fields, value) in enumerate(rows, start=1)
    ]
    for indicator, value in targets:
        for year in plan.years:
            Target.objects.create(indicator=indicator, fiscal_year=year, value=Decimal(value))


def _verification_plan(centre: Organisation, supervisor: User, this_year: int) -> None:
    plan = _plan(
        centre,
        this_year,
        name="【デモ】ひきこもり専門相談窓口の運営（検証票）",
        scope_kind=Plan.ScopeKind.ORGANISATION,
        description="「主な取組」検証票の様式：累計の目標、達成割合は100%が上限。",
    )
    push = Direction.objects.create(plan=plan, number=1, name="ひきこもり支援の推進")
    window, _municipal, network = indicators = [
        _indicator(push, order, **fields) for order, (fields, _value) in enumerate(VERIFICATION, 1)
    ]
    for indicator, (_fields, value) in zip(indicators, VERIFICATION, strict=True):
        for year in plan.years:
            Target.objects.create(indicator=indicator, fiscal_year=year, value=Decimal(value))
    Assessment.objects.create(
        indicator=window,
        fiscal_year=this_year - 1,
        updated_by=supervisor,
        progress_basis="【デモ】相談者を支援し、適切な機関と連携して支援を実施した。",
        check_text="【デモ】相談でつなげた当事者の居場所が不足している。",
        action_text="【デモ】相談でつなげた当事者の居場所づくりを検討する。",
    )
    Assessment.objects.create(
        indicator=network,
        fiscal_year=this_year,
        updated_by=supervisor,
        status_override=Status.MOSTLY,
        override_reason="【デモ】下半期に各圏域で開催予定のため。",
        progress_basis="【デモ】上半期は1回開催した。",
    )
