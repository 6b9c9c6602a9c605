"""Outreach services: visits with their safety check-in, and programme attendance.

Each checks permission, writes and records its audit event in one transaction. A done
visit logs its contact through casework's `log_contact`, so it is counted exactly once,
in the one contact table.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from accounts.policy import organisation_of
from audit.models import Action
from audit.services import record
from casework.access import Capability
from casework.models import Case
from casework.selectors import require_visible
from casework.services import check_event_date, log_contact

from .models import Attendance, ParticipantType, Programme, Session, Visit

V = Visit.Status


def checkin_minutes() -> int:
    """How long after a visit starts the worker must check in (VISIT_CHECKIN_MINUTES)."""
    return int(getattr(settings, "VISIT_CHECKIN_MINUTES", 120))


@transaction.atomic
def plan_visit(
    actor: User,
    case: Case,
    *,
    planned_start: datetime.datetime,
    workers: Iterable[User],
    kind: str = Visit.Kind.HOME_VISIT,
    destination: str = Visit.Destination.HOME,
    purpose: str = "",
) -> Visit:
    if not actor.has_perm("outreach.add_visit"):
        raise PermissionDenied
    require_visible(actor, case, capability=Capability.WRITE)
    organisation_id = organisation_of(actor)
    going = list(workers) or [actor]
    if len(going) > 2:
        raise ValidationError({"workers": _("訪問者は2人までです。")})
    if any(w.organisation_id != actor.organisation_id for w in going):
        raise ValidationError({"workers": _("訪問者は自組織の職員から選んでください。")})
    visit = Visit(
        case=case,
        data_key=case.data_key,
        organisation_id=organisation_id,
        kind=kind,
        destination=destination,
        purpose=purpose.strip() or None,
        planned_start=planned_start,
        created_by=actor,
    )
    visit.full_clean(exclude=["data_key"])
    visit.save()
    visit.workers.set(going)
    record(Action.CREATE, obj=visit, detail={"case": case.code, "kind": kind})
    return visit


@transaction.atomic
def record_visit(
    actor: User,
    case: Case,
    *,
    occurred_at: datetime.datetime,
    minutes: int,
    outcome: str,
    workers: Iterable[User] = (),
    kind: str = Visit.Kind.HOME_VISIT,
    destination: str = Visit.Destination.HOME,
    consulter: str = "self",
    travel_minutes: int = 0,
    purpose: str = "",
    notes: str = "",
) -> Visit:
    """A visit that has already happened, entered afterwards (from paper, an import or
    the API): planned and completed in one step at its own time, so its contact is logged
    under the one counting rule like any visit done through the day's screens. The audit
    event carries both the visit's time and (as every event) the time it was entered."""
    check_event_date(case, timezone.localtime(occurred_at).date(), field="occurred_at")
    visit = plan_visit(
        actor,
        case,
        planned_start=occurred_at,
        workers=workers,
        kind=kind,
        destination=destination,
        purpose=purpose,
    )
    done = complete_visit(
        actor,
        visit,
        outcome=outcome,
        minutes=minutes,
        travel_minutes=travel_minutes,
        notes=notes,
        consulter=consulter,
    )
    record(
        Action.UPDATE,
        obj=done,
        detail={
            "case": case.code,
            "entered_afterwards": True,
            "occurred_at": occurred_at.isoformat(),
        },
    )
    return done


def _lock_for_worker(actor: User, visit: Visit) -> Visit:
    if not actor.has_perm("outreach.change_visit"):
        raise PermissionDenied
    require_visible(actor, visit.case, capability=Capability.WRITE)
    return Visit.objects.unscoped().select_for_update().get(pk=visit.pk)


@transaction.atomic
def start_visit(actor: User, visit: Visit, *, now: datetime.datetime | None = None) -> Visit:
    current = _lock_for_worker(actor, visit)
    if current.status != V.PLANNED:
        raise ValidationError(_("予定の訪問だけを開始できます。"))
    now = now or timezone.now()
    current.status = V.IN_PROGRESS
    current.started_at = now
    due = now + datetime.timedelta(minutes=checkin_minutes())
    current.checkin_due_at = due
    current.save()
    record(
        Action.UPDATE,
        obj=current,
        detail={"case": current.case.code, "started": True, "checkin_due_at": due.isoformat()},
    )
    return current


@transaction.atomic
def check_in(actor: User, visit: Visit, *, now: datetime.datetime | None = None) -> Visit:
    """The worker is back safe. Either of two workers may check in for both, or a
    supervisor of the visiting organisation. It writes nothing about the case, so it does
    not ask for write access to it: a case transferred while the worker is out must not
    stop the safety check-in (the overdue alarm would go off)."""
    if not actor.has_perm("outreach.change_visit"):
        raise PermissionDenied
    current = Visit.objects.unscoped().select_for_update().get(pk=visit.pk)
    if current.status != V.IN_PROGRESS or current.checked_in_at is not None:
        raise ValidationError(_("帰着連絡できるのは訪問中の訪問だけです。"))
    is_worker = current.workers.filter(pk=actor.pk).exists()
    supervises = (
        actor.has_perm("casework.supervise_case")
        and actor.organisation_id == current.organisation_id
    )
    if not (is_worker or supervises):
        raise PermissionDenied
    checked_in_at = now or timezone.now()
    current.checked_in_at = checked_in_at
    current.checked_in_by = actor
    current.save()
    due = current.checkin_due_at  # set when the visit started
    record(
        Action.UPDATE,
        obj=current,
        detail={
            "case": current.case.code,
            "checked_in": True,
            "late": due is not None and checked_in_at > due,
        },
    )
    return current


@transaction.atomic
def complete_visit(
    actor: User,
    visit: Visit,
    *,
    outcome: str,
    minutes: int,
    travel_minutes: int = 0,
    notes: str = "",
    consulter: str = "self",
) -> Visit:
    """Record the result; the visit's contact is logged now, and only now."""
    current = _lock_for_worker(actor, visit)
    if current.status not in (V.PLANNED, V.IN_PROGRESS):
        raise ValidationError(_("この訪問はすでに完了または中止されています。"))
    if outcome not in Visit.Outcome.values:
        raise ValidationError({"outcome": _("結果を選んでください。")})
    contact = log_contact(
        actor,
        case=current.case,
        occurred_at=current.started_at or current.planned_start,
        channel=Visit.KIND_CHANNEL[current.kind],
        consulter=consulter,
        minutes=minutes,
    )
    current.contact = contact
    current.status = V.DONE
    current.outcome = outcome
    current.travel_minutes = travel_minutes
    current.notes = notes or None
    if current.started_at is not None and current.checked_in_at is None:
        current.checked_in_at, current.checked_in_by = timezone.now(), actor
    current.full_clean(exclude=["data_key"])
    current.save()
    record(Action.UPDATE, obj=current, detail={"case": current.case.code, "done": outcome})
    return current


@transaction.atomic
def cancel_visit(actor: User, visit: Visit) -> Visit:
    current = _lock_for_worker(actor, visit)
    if current.status != V.PLANNED:
        raise ValidationError(_("予定の訪問だけを中止できます。"))
    current.status = V.CANCELLED
    current.save()
    record(Action.UPDATE, obj=current, detail={"case": current.case.code, "cancelled": True})
    return current


@transaction.atomic
def report_overdue(*, now: datetime.datetime | None = None) -> list[Visit]:
    """Visits whose check-in is overdue; each is audited once, when first found."""
    from .selectors import overdue_visits

    now = now or timezone.now()
    found = list(overdue_visits(now=now).select_for_update(of=("self",)))
    for visit in found:
        if visit.overdue_reported_at is None:
            visit.overdue_reported_at = now
            visit.save(update_fields=["overdue_reported_at"])
            due = visit.checkin_due_at  # set when the visit started
            record(
                Action.UPDATE,
                obj=visit,
                detail={
                    "case": visit.case.code,
                    "checkin_overdue": True,
                    "due": due.isoformat() if due is not None else None,
                },
            )
    return found


# --- programmes ---------------------------------------------------------------------------


@transaction.atomic
def add_session(
    actor: User,
    programme: Programme,
    *,
    held_on: datetime.date,
    theme: str = "",
    venue: str = "",
    online: bool = False,
) -> Session:
    if not actor.has_perm("outreach.add_session"):
        raise PermissionDenied
    if programme.organiser_id != actor.organisation_id:
        raise ValidationError(_("他の組織が主催するグループ支援には開催回を追加できません。"))
    session = Session(programme=programme, held_on=held_on, theme=theme, venue=venue, online=online)
    session.full_clean()
    session.save()
    record(Action.CREATE, obj=session, detail={"programme": programme.pk})
    return session


MAX_ATTENDANCE = 10_000  # per cell: far above any session, far below the column's limit


@transaction.atomic
def record_attendance(
    actor: User, session: Session, *, grid: Mapping[tuple[str, int | None], int | None]
) -> int:
    """Replace a session's attendance with `grid` {(participant type, residence id): count}.

    All or nothing: any bad cell (negative count, unknown type or residence) refuses the
    whole grid with a message and leaves the previous figures as they were.
    """
    if not actor.has_perm("outreach.add_attendance"):
        raise PermissionDenied
    if session.programme.organiser_id != actor.organisation_id:
        raise ValidationError(_("他の組織が主催するグループ支援の参加者数は入力できません。"))
    municipalities = set(
        Organisation.objects.filter(kind=Organisation.Kind.MUNICIPALITY).values_list(
            "pk", flat=True
        )
    )
    rows = []
    for (participant_type, residence_id), count in grid.items():
        if participant_type not in ParticipantType.values:
            raise ValidationError(_("参加者の区分が正しくありません。"))
        if residence_id is not None and residence_id not in municipalities:
            raise ValidationError(_("居住市町村が正しくありません。"))
        if count is None or count < 0:
            raise ValidationError(_("人数は0以上で入力してください。"))
        if count > MAX_ATTENDANCE:
            raise ValidationError(_("1つの欄の人数は%(max)d人までです。") % {"max": MAX_ATTENDANCE})
        if count:
            rows.append(
                Attendance(
                    session=session,
                    participant_type=participant_type,
                    residence_id=residence_id,
                    count=count,
                )
            )
    session.attendance.all().delete()
    for row in rows:
        row.save()  # a few cells per session: saved one by one, so history is kept
    total = sum(row.count for row in rows)
    record(Action.UPDATE, obj=session, detail={"attendance_total": total, "cells": len(rows)})
    return total
