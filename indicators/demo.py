"""Demo plans modelled on the plan documents the product is built from: a monitoring plan
with six directions (Mie), a target-driven plan (Kochi: new consultations ≥ 200, ibasho
connections ≥ 100, employment ≥ 10, case conferences in all municipalities) and
verification-sheet indicators (Okinawa: 1,800 consultations a year, cumulative, ratio
capped at 100%). Periods run from the previous fiscal year, so the demo records count."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from accounts.models import Organisation
from casework.periods import fiscal_year

from .models import Assessment, Direction, Indicator, ManualValue, Plan, Status, Target

if TYPE_CHECKING:
    from accounts.management.commands.seed_demo import SeedContext


def _indicator(
    direction: Direction, order: int, code: str, name: str, unit: str, **fields
) -> Indicator:
    return Indicator.objects.create(
        direction=direction, sort_order=order, code=code, name=name, unit=unit, **fields
    )


def seed(context: SeedContext) -> None:
    if Plan.objects.exists():
        return
    centre = context.organisations["centre"]
    supervisor = context.users["supervisor"]
    this_year = fiscal_year(context.today)
    first, last = this_year - 1, this_year + 1
    municipalities = Organisation.objects.filter(kind=Organisation.Kind.MUNICIPALITY).count()

    # 1. Monitoring indicators by six directions (no targets: "モニタリング指標").
    mie = Plan.objects.create(
        name="【デモ】ひきこもり支援推進計画（モニタリング指標）",
        organisation=centre,
        first_year=first,
        last_year=last,
        description="取組方向ごとのモニタリング指標。目標値は設定せず、現状値と推移を見ます。",
    )
    d = [
        Direction.objects.create(plan=mie, number=n, name=name)
        for n, name in enumerate(
            [
                "情報発信・普及啓発",
                "対象者の状況把握・早期対応",
                "家族支援",
                "当事者支援",
                "社会参加支援",
                "多様な担い手の育成・確保",
            ],
            start=1,
        )
    ]
    T, D = Indicator.Counting.TOTAL, Indicator.Counting.DISTINCT
    _indicator(
        d[0],
        1,
        "1-1",
        "ひきこもり支援に関する講演会等への参加者数",
        "人",
        counting=T,
        metric="programme_attendance",
        metric_params={"programme_kind": ["lecture"]},
    )
    sns = _indicator(d[0], 2, "1-2", "SNSアカウントにおける投稿件数", "件")
    _indicator(
        d[1],
        1,
        "2-1",
        "市町における相談窓口の設置数",
        "市町",
        counting=Indicator.Counting.AS_OF,
        metric="municipal_readiness",
        metric_params={"step": ["consultation_window"]},
        baseline=Decimal(20),
        baseline_label="R3",
    )
    _indicator(
        d[1],
        2,
        "2-2",
        "市町プラットフォームの設置・運営数",
        "市町",
        counting=Indicator.Counting.AS_OF,
        metric="municipal_readiness",
        metric_params={"step": ["platform"]},
        baseline=Decimal(19),
        baseline_label="R3",
    )
    _indicator(
        d[1],
        3,
        "2-3",
        "相談支援機関における新規相談件数",
        "件",
        counting=T,
        metric="new_consultations",
    )
    school = _indicator(
        d[1],
        4,
        "2-4",
        "不登校児童生徒が学校内外の機関等で相談・指導等を受けた割合（小学生）",
        "%",
        baseline=Decimal("72.9"),
        baseline_label="R2",
    )
    _indicator(
        d[2],
        1,
        "3-1",
        "ひきこもり地域支援センターにおける専門相談件数（延べ）",
        "件",
        counting=T,
        metric="contacts",
        organisation=centre,
        baseline=Decimal(275),
        baseline_label="R2",
    )
    _indicator(
        d[2],
        2,
        "3-2",
        "家族教室への参加者数（延べ）",
        "人",
        counting=T,
        metric="programme_attendance",
        metric_params={"programme_kind": ["family_class"]},
        baseline=Decimal(42),
        baseline_label="R2",
    )
    _indicator(
        d[3],
        1,
        "4-1",
        "多職種連携チームによる支援件数（実件数）",
        "件",
        counting=D,
        metric="mdt_cases",
    )
    _indicator(
        d[3],
        2,
        "4-2",
        "アウトリーチ支援員による面談・訪問・同行支援件数（延べ）",
        "件",
        counting=T,
        metric="outreach_contacts",
        baseline=Decimal(94),
        baseline_label="R2",
    )
    home_support = _indicator(
        d[3],
        3,
        "4-3",
        "不登校支援アドバイザー等による訪問型支援の実施回数",
        "回",
        baseline=Decimal(134),
        baseline_label="R2",
    )
    places = _indicator(
        d[4],
        1,
        "5-1",
        "ひきこもり当事者のための居場所数",
        "か所",
        baseline=Decimal(6),
        baseline_label="R2",
    )
    _indicator(
        d[4],
        2,
        "5-2",
        "居場所の居住市町外からの利用者数（延べ）",
        "人",
        counting=T,
        metric="cross_municipality_use",
        metric_params={"programme_kind": ["ibasho", "online_ibasho"]},
    )
    _indicator(
        d[4],
        3,
        "5-3",
        "居場所につながった人数（実）",
        "人",
        counting=D,
        metric="support_connections",
    )
    promoters = _indicator(
        d[5],
        1,
        "6-1",
        "相談支援包括化推進員養成数",
        "人",
        baseline=Decimal(56),
        baseline_label="R2",
    )
    _indicator(
        d[5],
        2,
        "6-2",
        "ひきこもりサポーター養成研修の参加者数（延べ）",
        "人",
        counting=T,
        metric="programme_attendance",
        metric_params={"programme_kind": ["supporter_training"]},
    )

    for indicator, values, note in [
        (sns, (48, 31), "広報担当課の投稿記録"),
        (
            school,
            (Decimal("73.4"), None),
            "児童生徒の問題行動・不登校等生徒指導上の諸課題に関する調査",
        ),
        (home_support, (141, 88), "教育委員会からの報告"),
        (places, (7, 8), "県所管課の把握数"),
        (promoters, (61, 24), "養成研修の修了者名簿"),
    ]:
        for year, value in zip((first, this_year), values, strict=True):
            if value is not None:
                ManualValue.objects.create(
                    indicator=indicator,
                    fiscal_year=year,
                    value=Decimal(value),
                    source_note=f"【デモ】{note}",
                    entered_by=supervisor,
                )

    # 2. Targets (Kochi-like), over the whole prefecture.
    kochi = Plan.objects.create(
        name="【デモ】ひきこもり支援の目標値（県全体）",
        organisation=centre,
        first_year=first,
        last_year=last,
        description="新規相談・居場所等への接続・中間的就労を経た就労・全市町村でのケース会議。",
    )
    system = Direction.objects.create(plan=kochi, number=1, name="相談支援体制の充実")
    participation = Direction.objects.create(
        plan=kochi, number=2, name="多様な社会参加に向けた支援の充実"
    )
    targets = [
        (
            _indicator(
                system, 1, "1-1", "新規相談件数", "件", counting=T, metric="new_consultations"
            ),
            200,
        ),
        (
            _indicator(
                system,
                2,
                "1-2",
                "ひきこもりのケース会議を実施した市町村数",
                "市町村",
                counting=D,
                metric="case_conference_municipalities",
                baseline=Decimal(10),
                baseline_label="R1",
            ),
            municipalities,
        ),
        (
            _indicator(
                participation,
                1,
                "2-1",
                "居場所等の支援につながった件数",
                "件",
                counting=D,
                metric="support_connections",
                metric_params={"milestone_kind": ["ibasho", "welfare_service"]},
            ),
            100,
        ),
        (
            _indicator(
                participation,
                2,
                "2-2",
                "中間的就労等を経て就労した人数",
                "人",
                counting=D,
                metric="employment_after_intermediate_work",
            ),
            10,
        ),
    ]
    for indicator, value in targets:
        for year in kochi.years:
            Target.objects.create(indicator=indicator, fiscal_year=year, value=Decimal(value))

    # 3. Verification sheets (Okinawa-like): the centre's own window, cumulative, capped.
    okinawa = Plan.objects.create(
        name="【デモ】ひきこもり専門相談窓口の運営（検証票）",
        organisation=centre,
        first_year=first,
        last_year=last,
        scope_kind=Plan.ScopeKind.ORGANISATION,
        description="「主な取組」検証票の様式：累計の目標、達成割合は100%が上限。",
    )
    push = Direction.objects.create(plan=okinawa, number=1, name="ひきこもり支援の推進")
    window = _indicator(
        push,
        1,
        "③-1",
        "相談対応件数（累計）",
        "件",
        counting=T,
        metric="contacts",
        accumulation=Indicator.Accumulation.CUMULATIVE,
        cap_ratio=True,
        activity="中高年を含むひきこもり状態にある本人や家族等からの相談に対応し、"
        "医療・保健・福祉・教育・労働など適切な関係機関への紹介を行う。",
    )
    municipal = _indicator(
        push,
        2,
        "③-2",
        "市町村担当課等からの個別事例の相談件数",
        "件",
        counting=T,
        metric="municipal_staff_consultations",
        cap_ratio=True,
        activity="市町村との連携体制を強化し、個別事例の相談に応じる。",
    )
    network = _indicator(
        push,
        3,
        "③-3",
        "支援ネットワーク会議の開催回数（累計）",
        "回",
        counting=T,
        metric="meetings_held",
        metric_params={"meeting_kind": ["network"]},
        accumulation=Indicator.Accumulation.CUMULATIVE,
        cap_ratio=True,
        activity="地域連絡協議会・支援ネットワーク会議を開催し、顔の見える関係をつくる。",
    )
    for indicator, value in [(window, 1800), (municipal, 30), (network, 4)]:
        for year in okinawa.years:
            Target.objects.create(indicator=indicator, fiscal_year=year, value=Decimal(value))
    Assessment.objects.create(
        indicator=window,
        fiscal_year=first,
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
    context.counts["plans"] = Plan.objects.count()
    context.counts["indicators"] = Indicator.objects.count()
