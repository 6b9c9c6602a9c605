"""Writes on plans: a submitted (frozen) report, and one indicator's figures for a year.
Each checks permission and organisation, writes and records its audit event in one
transaction."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import Action
from audit.services import record

from .models import Assessment, Indicator, ManualValue, Plan, Snapshot, Target
from .policy import may_submit, owns
from .reports import progress_report


def submit_report(user, plan: Plan, year: int, as_of: datetime.date, note: str = "") -> Snapshot:
    """Freeze the report's figures as submitted: the exact table for the owning
    organisation and the suppressed one for everybody else."""
    if not may_submit(user, plan):
        raise PermissionDenied
    if year not in plan.years:
        raise ValidationError(_("計画期間外の年度の報告は提出できません。"))
    if as_of > timezone.localdate():
        raise ValidationError(_("未来の日付を基準日にして提出することはできません。"))
    exact = progress_report(plan, year, as_of, exact=True)
    public = progress_report(plan, year, as_of, exact=False)
    figures = exact.figures()
    figures["public_table"] = public.table().as_json()
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
    user,
    indicator: Indicator,
    year: int,
    *,
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
    changed: list[str] = []
    with transaction.atomic():
        current_target = (
            Target.objects.unscoped().filter(indicator=indicator, fiscal_year=year).first()
        )
        if target is None and current_target is not None:
            _require(user, "indicators.change_target")
            current_target.delete()
            changed.append("target")
        elif target is not None and (current_target is None or current_target.value != target):
            _require(
                user, "indicators.change_target" if current_target else "indicators.add_target"
            )
            Target.objects.unscoped().update_or_create(
                indicator=indicator, fiscal_year=year, defaults={"value": target}
            )
            changed.append("target")
        if indicator.is_manual:
            current_value = (
                ManualValue.objects.unscoped().filter(indicator=indicator, fiscal_year=year).first()
            )
            if manual_value is not None and (
                current_value is None
                or (current_value.value, current_value.source_note) != (manual_value, source_note)
            ):
                _require(
                    user,
                    "indicators.change_manualvalue"
                    if current_value
                    else "indicators.add_manualvalue",
                )
                ManualValue.objects.unscoped().update_or_create(
                    indicator=indicator,
                    fiscal_year=year,
                    defaults={
                        "value": manual_value,
                        "source_note": source_note,
                        "entered_by": user,
                        "entered_at": timezone.now(),
                    },
                )
                changed.append("manual_value")
        texts = {
            "status_override": status_override,
            "override_reason": override_reason if status_override else "",
            "progress_basis": progress_basis,
            "check_text": check_text,
            "action_text": action_text,
        }
        current = (
            Assessment.objects.unscoped().filter(indicator=indicator, fiscal_year=year).first()
        )
        if (current is None and any(texts.values())) or (
            current is not None and any(getattr(current, k) != v for k, v in texts.items())
        ):
            _require(
                user, "indicators.change_assessment" if current else "indicators.add_assessment"
            )
            assessment = current or Assessment(indicator=indicator, fiscal_year=year)
            for key, value in texts.items():
                setattr(assessment, key, value)
            assessment.updated_by = user
            assessment.updated_at = timezone.now()
            assessment.full_clean()
            assessment.save()
            changed.append("assessment")
        if changed:
            record(
                Action.UPDATE,
                object_type=indicator._meta.label,
                object_ref=str(indicator.pk),
                detail={"fiscal_year": year, "changed": changed},
            )


def _require(user, permission: str) -> None:
    if not user.has_perm(permission):
        raise PermissionDenied
