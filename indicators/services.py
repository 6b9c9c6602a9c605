"""Writes on plans: a submitted (frozen) report, and one indicator's figures for a year.
Each checks permission and organisation, writes and records its audit event in one
transaction."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit.models import Action
from audit.services import record

from .models import Assessment, Indicator, ManualValue, Plan, Snapshot, Target
from .policy import may_submit, owns
from .reports import progress_report


def submit_report(
    user: User, plan: Plan, *, year: int, as_of: datetime.date, note: str = ""
) -> Snapshot:
    """Freeze the report's figures as submitted (the exact table, which only the owning
    organisation reads)."""
    if not may_submit(user, plan):
        raise PermissionDenied
    if year not in plan.years:
        raise ValidationError(_("計画期間外の年度の報告は提出できません。"))
    if as_of > timezone.localdate():
        raise ValidationError(_("未来の日付を基準日にして提出することはできません。"))
    exact = progress_report(plan, year=year, as_of=as_of, exact=True)
    figures = exact.figures()  # others read the publications (selectors.snapshot_table)
    with transaction.atomic():
        snapshot = Snapshot.objects.create(
            plan=plan,
            fiscal_year=year,
            as_of=exact.period.end,
            figures=figures,
            note=note,
            submitted_by=user,
        )
        record(
            Action.CREATE,
            obj=snapshot,
            detail={"plan": plan.pk, "fiscal_year": year, "as_of": exact.period.end.isoformat()},
        )
    return snapshot


def save_indicator_year(
    user: User,
    indicator: Indicator,
    *,
    year: int,
    target: Decimal | None,
    manual_value: Decimal | None,
    source_note: str,
    status_override: str,
    override_reason: str,
    progress_basis: str,
    check_text: str,
    action_text: str,
) -> None:
    """The target, the entered figure (manual indicators) and the assessment of one year."""
    plan = indicator.direction.plan
    if not owns(user, plan):
        raise PermissionDenied
    if year not in plan.years:
        raise ValidationError(_("計画期間外の年度です。"))
    texts = {
        "status_override": status_override,
        "override_reason": override_reason if status_override else "",
        "progress_basis": progress_basis,
        "check_text": check_text,
        "action_text": action_text,
    }
    with transaction.atomic():
        changed = _write_year(
            user,
            indicator,
            year=year,
            target=None if target is None else {"value": target},
            manual=(
                None
                if manual_value is None
                else {"value": manual_value, "source_note": source_note}
            ),
            texts=texts,
        )
        if changed:
            record(
                Action.UPDATE,
                object_type=indicator._meta.label,
                object_ref=str(indicator.pk),
                detail={"fiscal_year": year, "changed": changed},
            )


def _write_year(
    user: User,
    indicator: Indicator,
    *,
    year: int,
    target: dict[str, Any] | None,
    manual: dict[str, Any] | None,
    texts: dict[str, Any],
) -> list[str]:
    """Write the year's target, entered figure (manual indicators only) and assessment, in
    that order; the names of those that changed."""
    changed: list[str] = []
    if _save_year_row(
        user, Target, indicator=indicator, year=year, values=target, delete_if_none=True
    ):
        changed.append("target")
    if indicator.is_manual and _save_year_row(
        user,
        ManualValue,
        indicator=indicator,
        year=year,
        values=manual,
        stamp={"entered_by": user, "entered_at": timezone.now()},
    ):
        changed.append("manual_value")
    if _save_year_row(
        user,
        Assessment,
        indicator=indicator,
        year=year,
        values=texts,
        stamp={"updated_by": user, "updated_at": timezone.now()},
        validate=True,
    ):
        changed.append("assessment")
    return changed


def _save_year_row(
    user: User,
    model: type[Target | ManualValue | Assessment],
    *,
    indicator: Indicator,
    year: int,
    values: dict[str, Any] | None,
    stamp: dict[str, Any] | None = None,
    delete_if_none: bool = False,
    validate: bool = False,
) -> bool:
    """Write the indicator's row of `model` for `year` when `values` differ from it (a
    missing row reads as the model's defaults, so blank values create nothing), with the
    add or change permission; `stamp` (who, when) is written along. None for `values`
    means nothing was given: the row is deleted when `delete_if_none`, else left alone.
    `validate` runs the model's checks before saving. True when anything was written."""
    current = model.objects.unscoped().filter(indicator=indicator, fiscal_year=year).first()
    name = model._meta.model_name
    if values is None:
        if not (delete_if_none and current is not None):
            return False
        _require(user, f"indicators.change_{name}")
        current.delete()
        return True
    row = current or model(indicator=indicator, fiscal_year=year)
    if all(getattr(row, key) == value for key, value in values.items()):
        return False
    _require(user, f"indicators.{'change' if current else 'add'}_{name}")
    values = {**values, **(stamp or {})}
    if not validate:
        model.objects.unscoped().update_or_create(
            indicator=indicator, fiscal_year=year, defaults=values
        )
        return True
    for key, value in values.items():
        setattr(row, key, value)
    row.full_clean()
    row.save()
    return True


def _require(user: User, permission: str) -> None:
    if not user.has_perm(permission):
        raise PermissionDenied
