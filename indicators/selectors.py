"""Indicator reads for the screens and the API: plans, snapshots and indicators a user may
open (`Plan.objects.visible_to`), and the reports with exactness decided by
indicators.policy, so that views only render."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from tabular import Table

from . import metrics, policy
from .models import Indicator, Plan, Snapshot
from .reports import Breakdown, ProgressReport, metric_breakdown, progress_report


def plans(user: User) -> QuerySet[Plan]:
    """The plans `user` may read, newest first."""
    return (
        Plan.objects.visible_to(user).select_related("organisation").order_by("-last_year", "name")
    )


def plan_for(user: User, pk: int | str, *, related: Sequence[str] = ()) -> Plan:
    """A plan `user` may read (its `related` rows joined), else 404."""
    plan = Plan.objects.visible_to(user).select_related(*related).filter(pk=pk).first()
    if plan is None:
        raise Http404
    return plan


def indicator_for(user: User, pk: int | str, *, plan_pk: int | str) -> Indicator:
    """An indicator of the plan `plan_pk`, with its direction and plan, else 404."""
    indicator = (
        Indicator.objects.visible_to(user)
        .select_related("direction__plan__organisation")
        .filter(pk=pk, direction__plan_id=plan_pk)
        .first()
    )
    if indicator is None:
        raise Http404
    return indicator


def snapshot_for(user: User, pk: int | str) -> Snapshot:
    """A submitted report of a plan `user` may read, else 404."""
    snapshot = (
        Snapshot.objects.visible_to(user)
        .select_related("plan", "submitted_by")
        .filter(pk=pk)
        .first()
    )
    if snapshot is None:
        raise Http404
    return snapshot


def snapshot_table(user: User, snapshot: Snapshot) -> Table:
    """The submitted table as `user` may see it: as frozen for the owner; for everyone
    else the year's published figures (a submission is cut at any day, and its own
    suppression would be a second pattern to subtract from the publications)."""
    if policy.exact_for_plan(user, snapshot.plan):
        return Table.from_json(snapshot.figures["table"])
    table = progress_report(snapshot.plan, year=snapshot.fiscal_year, exact=False).table()
    table.notes.insert(0, str(SNAPSHOT_NOTE))
    return table


SNAPSHOT_NOTE = _(
    "提出時の数値は提出した組織にのみ表示されます。ここでは同じ年度の公表値を示します。"
)


def plan_report(
    user: User, plan: Plan, *, year: int, as_of: datetime.date | None
) -> ProgressReport:
    """The plan's progress report for `year` (cut at `as_of`), exact only for those
    indicators.policy allows."""
    return progress_report(plan, year=year, as_of=as_of, exact=policy.exact_for_plan(user, plan))


def metric_figures(
    user: User, cell: metrics.Cell, *, scope: metrics.Scope
) -> tuple[Breakdown, bool]:
    """A metric's breakdown over `scope`, and whether it is exact (indicators.policy)."""
    exact = policy.exact_for_scope(user, scope)
    return metric_breakdown(cell, scope=scope, exact=exact), exact


def yearly_targets(indicator: Indicator) -> list[tuple[int, Decimal | None, Decimal | None]]:
    """(year, the year's target, the running total for a cumulative indicator) for each
    year of the indicator's plan, as the verification sheet's Plan row shows them."""
    targets = {t.fiscal_year: t.value for t in indicator.targets.all()}
    yearly, running = [], Decimal(0)
    for year in indicator.direction.plan.years:
        value = targets.get(year)
        if value is not None:
            running += value
        cumulative = running if indicator.is_cumulative and value is not None else None
        yearly.append((year, value, cumulative))
    return yearly


ASSESSMENT_FIELDS = (
    "status_override",
    "override_reason",
    "progress_basis",
    "check_text",
    "action_text",
)


def indicator_year(indicator: Indicator, *, year: int) -> dict[str, Any]:
    """What one year of an indicator holds (target, entered figure, assessment), as the
    edit form starts from."""
    target = indicator.targets.filter(fiscal_year=year).first()
    manual = indicator.manual_values.filter(fiscal_year=year).first()
    assessment = indicator.assessments.filter(fiscal_year=year).first()
    initial = {
        "target": target.value if target else None,
        "manual_value": manual.value if manual else None,
        "source_note": manual.source_note if manual else "",
    }
    if assessment:
        initial.update({key: getattr(assessment, key) for key in ASSESSMENT_FIELDS})
    return initial
