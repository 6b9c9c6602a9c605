"""Plans, their indicators and targets, entered figures, assessments and frozen reports."""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.scoping import ScopedManager, ScopedModel
from audit.history import HistoricalRecords

from . import metrics
from .periods import era_label


class Status(models.TextChoices):
    """進捗状況, from the achievement ratio and the plan's thresholds (or overridden)."""

    ON_TRACK = "on_track", _("順調")
    MOSTLY = "mostly", _("概ね順調")
    DELAYED = "delayed", _("やや遅れ")
    BEHIND = "behind", _("遅れ")


# Everyone who may read statistics reads every plan, with small cells hidden outside the
# owning organisation (indicators.policy); the owning organisation's supervisors enter its
# figures. Rows under a plan are read through the plan (`of_plan`).
STATISTICS = "accounts.view_statistics"


class PlanManager(ScopedManager["Plan"]):
    def visible_to(self, user: User) -> models.QuerySet[Plan]:
        """Every plan, for those who may read statistics; none for anyone else."""
        if not getattr(user, "is_active", False) or not user.has_perm(STATISTICS):
            return self.none()
        return self._scope_base()

    def owned_by(self, user: User) -> models.QuerySet[Plan]:
        """The plans of `user`'s organisation (it enters their figures and submits them)."""
        if not getattr(user, "is_authenticated", False) or user.organisation_id is None:
            return self.none()
        return self._scope_base().filter(organisation_id=user.organisation_id)


_Row = TypeVar("_Row", bound=models.Model)


class _PlanRowsManager(ScopedManager[_Row]):
    """Rows that belong to a plan: read through a plan already reached (`of_plan`), or
    among the plans a user may read (`visible_to`)."""

    plan_path = "plan"

    def of_plan(self, plan: Plan) -> models.QuerySet[_Row]:
        return self._scope_base().filter(**{self.plan_path: plan})

    def visible_to(self, user: User) -> models.QuerySet[_Row]:
        plans = Plan.objects.visible_to(user)
        return self._scope_base().filter(**{f"{self.plan_path}__in": plans})


class DirectionManager(_PlanRowsManager["Direction"]):
    plan_path = "plan"


class IndicatorManager(_PlanRowsManager["Indicator"]):
    plan_path = "direction__plan"


class IndicatorRowsManager(_PlanRowsManager[_Row]):
    plan_path = "indicator__direction__plan"


class SnapshotManager(_PlanRowsManager["Snapshot"]):
    plan_path = "plan"


class Plan(ScopedModel):
    class ScopeKind(models.TextChoices):
        PREFECTURE = metrics.Scope.PREFECTURE, _("県全体")
        REGION = metrics.Scope.REGION, _("圏域")
        ORGANISATION = metrics.Scope.ORGANISATION, _("所管組織のみ")

    name = models.CharField(_("計画の名称"), max_length=200)
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="plans",
        verbose_name=_("所管組織"),
    )
    first_year = models.PositiveSmallIntegerField(_("計画期間の初年度（西暦）"))
    last_year = models.PositiveSmallIntegerField(_("計画期間の最終年度（西暦）"))
    scope_kind = models.CharField(
        _("集計の範囲"), max_length=16, choices=ScopeKind.choices, default=ScopeKind.PREFECTURE
    )
    scope_region = models.ForeignKey(
        "accounts.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("圏域（範囲が圏域のとき）"),
    )
    # Status thresholds on the achievement ratio (%): at or above → that status.
    on_track_from = models.DecimalField(
        _("「順調」とする達成割合（%以上）"), max_digits=6, decimal_places=1, default=Decimal(100)
    )
    mostly_from = models.DecimalField(
        _("「概ね順調」とする達成割合（%以上）"),
        max_digits=6,
        decimal_places=1,
        default=Decimal(80),
    )
    delayed_from = models.DecimalField(
        _("「やや遅れ」とする達成割合（%以上）"),
        max_digits=6,
        decimal_places=1,
        default=Decimal(50),
    )

    class AsOfTarget(models.TextChoices):
        PRORATED = "prorated", _("経過した期間に応じた目標（按分）と比べる")
        WHOLE_YEAR = "whole_year", _("年度全体の目標と比べる")

    # A status "as of" a day inside the year compares the figure so far with this.
    as_of_target = models.CharField(
        _("年度途中の判定"),
        max_length=16,
        choices=AsOfTarget.choices,
        default=AsOfTarget.PRORATED,
    )
    description = models.TextField(_("説明"), blank=True)

    objects = PlanManager()

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("計画")
        verbose_name_plural = _("計画")
        ordering = ["-last_year", "name"]
        permissions = [
            ("view_exact_figures", _("所管組織の計画を秘匿処理なしで閲覧できる")),
            ("submit_report", _("進捗報告を提出（確定）できる")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_year__gte=models.F("first_year")), name="plan_period_in_order"
            ),
            models.CheckConstraint(
                condition=~Q(scope_kind="region") | Q(scope_region__isnull=False),
                name="plan_region_scope_has_region",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.first_year and self.last_year and self.last_year < self.first_year:
            errors["last_year"] = _("最終年度は初年度以降にしてください。")
        if self.scope_kind == self.ScopeKind.REGION and not self.scope_region_id:
            errors["scope_region"] = _("範囲が圏域の計画には圏域を選んでください。")
        if not (self.on_track_from >= self.mostly_from >= self.delayed_from >= 0):
            errors["mostly_from"] = _(
                "判定の基準は「順調」≧「概ね順調」≧「やや遅れ」≧0 にしてください。"
            )
        if errors:
            raise ValidationError(errors)

    @property
    def scope(self) -> metrics.Scope:
        if self.scope_kind == self.ScopeKind.ORGANISATION:
            return metrics.Scope(metrics.Scope.ORGANISATION, organisation_id=self.organisation_id)
        if self.scope_kind == self.ScopeKind.REGION:
            return metrics.Scope(metrics.Scope.REGION, region_id=self.scope_region_id)
        return metrics.Scope()

    @property
    def years(self) -> range:
        return range(self.first_year, self.last_year + 1)

    def period_label(self) -> str:
        return f"{era_label(self.first_year)}～{era_label(self.last_year)}"

    def status_for(self, ratio: Decimal | None) -> str | None:
        if ratio is None:
            return None
        if ratio >= self.on_track_from:
            return Status.ON_TRACK
        if ratio >= self.mostly_from:
            return Status.MOSTLY
        if ratio >= self.delayed_from:
            return Status.DELAYED
        return Status.BEHIND


class Direction(ScopedModel):
    """取組方向 (or 施策): a group of indicators in a plan."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="directions")
    number = models.PositiveSmallIntegerField(_("番号"))
    name = models.CharField(_("名称"), max_length=200)

    objects = DirectionManager()

    class Meta:
        verbose_name = _("取組方向")
        verbose_name_plural = _("取組方向")
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="direction_number_per_plan")
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class Indicator(ScopedModel):
    class Counting(models.TextChoices):
        TOTAL = metrics.TOTAL, _("延べ")
        DISTINCT = metrics.DISTINCT, _("実")
        AS_OF = metrics.AS_OF, _("時点")
        NONE = "", _("—")

    class Accumulation(models.TextChoices):
        ANNUAL = "annual", _("単年度")
        CUMULATIVE = "cumulative", _("累計（計画期間の初年度から）")

    direction = models.ForeignKey(Direction, on_delete=models.CASCADE, related_name="indicators")
    code = models.CharField(_("指標番号"), max_length=20)
    name = models.CharField(_("指標名"), max_length=300)
    activity = models.TextField(_("主な取組（活動内容）"), blank=True)
    unit = models.CharField(_("単位"), max_length=20)
    counting = models.CharField(
        _("数え方"), max_length=16, choices=Counting.choices, blank=True, default=Counting.NONE
    )
    metric = models.CharField(
        _("集計項目"),
        max_length=64,
        blank=True,
        help_text=_("空欄の場合は手入力の指標です。"),
    )
    metric_params = models.JSONField(_("集計の条件"), default=dict, blank=True)
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("集計対象の組織"),
        help_text=_(
            "空欄の場合は計画の集計範囲で数えます（例：センターの専門相談件数だけを数える指標）。"
        ),
    )
    accumulation = models.CharField(
        _("年度の扱い"), max_length=16, choices=Accumulation.choices, default=Accumulation.ANNUAL
    )
    cap_ratio = models.BooleanField(
        _("達成割合の上限を100%とする"),
        default=False,
        help_text=_(
            "検証票の様式のように、表示する達成割合を100%で止めます。判定は実際の割合で行います。"
        ),
    )
    baseline = models.DecimalField(
        _("現状値"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    baseline_label = models.CharField(_("現状値の時点"), max_length=40, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("表示順"), default=0)

    objects = IndicatorManager()

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("指標")
        verbose_name_plural = _("指標")
        ordering = ["direction__number", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["direction", "code"], name="indicator_code_per_direction"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_manual(self) -> bool:
        return not self.metric

    @property
    def is_cumulative(self) -> bool:
        return self.accumulation == self.Accumulation.CUMULATIVE

    def clean(self) -> None:
        if self.metric:
            try:
                self.metric_params = metrics.get(self.metric).clean_params(self.metric_params)
            except ValueError as error:
                raise ValidationError({"metric_params": str(error)}) from None
        elif self.metric_params:
            raise ValidationError(
                {"metric_params": _("手入力の指標には集計の条件を指定できません。")}
            )

    def scope(self, plan: Plan) -> metrics.Scope:
        if self.organisation_id:
            return metrics.Scope(metrics.Scope.ORGANISATION, organisation_id=self.organisation_id)
        return plan.scope

    def cell(self, period) -> metrics.Cell:
        return metrics.Cell.of(self.metric, self.metric_params, period)


class Target(ScopedModel):
    """目標値 for one fiscal year: for a cumulative indicator, that year's own share."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="targets")
    fiscal_year = models.PositiveSmallIntegerField(_("年度（西暦）"))
    value = models.DecimalField(
        _("目標値"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    note = models.CharField(_("備考"), max_length=200, blank=True)

    objects = IndicatorRowsManager()

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("目標値")
        verbose_name_plural = _("目標値")
        constraints = [
            models.UniqueConstraint(fields=["indicator", "fiscal_year"], name="target_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {era_label(self.fiscal_year)}: {self.value}"


class ManualValue(ScopedModel):
    """A figure from outside the system (school data, SNS posts) for one fiscal year."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="manual_values")
    fiscal_year = models.PositiveSmallIntegerField(_("年度（西暦）"))
    value = models.DecimalField(
        _("実績値"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    source_note = models.CharField(_("出典・根拠"), max_length=300)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("入力者"),
    )
    entered_at = models.DateTimeField(_("入力日時"), default=timezone.now)

    objects = IndicatorRowsManager()

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("手入力の実績値")
        verbose_name_plural = _("手入力の実績値")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "fiscal_year"], name="manual_value_per_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {era_label(self.fiscal_year)}: {self.value}"


class Assessment(ScopedModel):
    """Plan-Do-Check-Action text and an optional status override for one indicator-year."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="assessments")
    fiscal_year = models.PositiveSmallIntegerField(_("年度（西暦）"))
    status_override = models.CharField(
        _("進捗状況（手動で判定する場合）"), max_length=16, choices=Status.choices, blank=True
    )
    override_reason = models.TextField(_("手動判定の理由"), blank=True)
    progress_basis = models.TextField(_("進捗状況の判定根拠、要因及び取組の効果"), blank=True)
    check_text = models.TextField(_("取組の検証（Check）"), blank=True)
    action_text = models.TextField(_("取組の改善案（Action）"), blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("更新者"),
    )
    updated_at = models.DateTimeField(_("更新日時"), default=timezone.now)

    objects = IndicatorRowsManager()

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("評価")
        verbose_name_plural = _("評価")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "fiscal_year"], name="assessment_per_year"
            ),
            models.CheckConstraint(
                condition=Q(status_override="") | ~Q(override_reason=""),
                name="assessment_override_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {era_label(self.fiscal_year)}"

    def clean(self) -> None:
        if self.status_override and not self.override_reason.strip():
            raise ValidationError(
                {"override_reason": _("手動で判定する場合は理由を入力してください。")}
            )


class Snapshot(ScopedModel):
    """The figures of a progress report as submitted, frozen."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="snapshots")
    fiscal_year = models.PositiveSmallIntegerField(_("年度（西暦）"))
    as_of = models.DateField(_("基準日"))
    figures = models.JSONField(_("提出時の数値"), editable=False)
    note = models.CharField(_("備考"), max_length=300, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("提出者"),
    )
    submitted_at = models.DateTimeField(_("提出日時"), default=timezone.now, editable=False)

    objects = SnapshotManager()

    class Meta:
        verbose_name = _("提出済みの進捗報告")
        verbose_name_plural = _("提出済みの進捗報告")
        ordering = ["-submitted_at"]
        indexes = [models.Index(fields=["plan", "fiscal_year", "as_of"])]

    def __str__(self) -> str:
        return f"{self.plan} {era_label(self.fiscal_year)} {self.as_of}"


class Publication(models.Model):
    """What viewers without exact figures see of one metric in one fiscal year: every
    figure of its query space (indicators.disclosure.space) with the value shown or
    null where hidden, as computed once by the disclosure engine. Readers never
    recompute a stored publication; `publish_statistics` replaces it after a month ends,
    so the same question gets the same answer until then."""

    metric = models.CharField(_("集計項目"), max_length=64)
    fiscal_year = models.PositiveSmallIntegerField(_("年度（西暦）"))
    as_of = models.DateField(_("基準日"))
    figures = models.JSONField(_("公表値"), editable=False)  # [[scope, dimension, value, shown]]
    # What the year's earlier publications showed: [[as_of, scope, dimension, value, shown]].
    earlier = models.JSONField(_("過去の公表値"), default=list, editable=False)
    hidden = models.PositiveIntegerField(_("秘匿した数"), default=0)
    seconds = models.FloatField(_("計算時間（秒）"), default=0.0)
    computed_at = models.DateTimeField(_("計算日時"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("公表値")
        verbose_name_plural = _("公表値")
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "fiscal_year"], name="one_publication_per_metric_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.metric} {era_label(self.fiscal_year)} {self.as_of}"
