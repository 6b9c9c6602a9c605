"""Outreach reads: schedules, overdue check-ins, and the counts the plan needs."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from accounts.selectors import holders_of
from casework.access import Capability, cached_access
from casework.models import Case
from casework.selectors import TimelineEntry

from .models import Attendance, Programme, Session, Visit

V = Visit.Status


def visible_visits(user: User) -> QuerySet[Visit]:
    return Visit.objects.visible_to(user)


def checkable_visits(user: User) -> QuerySet[Visit]:
    """Visits the user may check in for (`Visit.objects.checkable_by`)."""
    return Visit.objects.checkable_by(user)


def visit_workers(user: User) -> QuerySet[User]:
    """Who may go on a visit `user` plans: staff of their organisation whose role makes
    visits (not auditors, administrators or statistics viewers)."""
    return holders_of("outreach.add_visit", organisation_id=user.organisation_id).order_by(
        "username"
    )


def active_programmes(user: User) -> QuerySet[Programme]:
    """The running programmes of the user's organisation."""
    return Programme.objects.visible_to(user).filter(is_active=True)


def programme_for(user: User, pk: int | str) -> Programme:
    """A programme of the user's organisation, else 404."""
    programme = Programme.objects.visible_to(user).filter(pk=pk).first()
    if programme is None:
        raise Http404
    return programme


def session_for(user: User, pk: int | str) -> Session:
    """A session of a programme of the user's organisation (its programme joined), else 404."""
    session = Session.objects.visible_to(user).select_related("programme").filter(pk=pk).first()
    if session is None:
        raise Http404
    return session


def may_read_visits(viewer: User | None, case: Case) -> bool:
    """Whether `viewer` may read what the visits of `case` say (place, purpose, notes):
    whoever may open their visit pages (`outreach.view_visit`, and reading the case by
    casework.access). Not an MDT member on an agenda grant (no visit permission), nor
    anyone who does not reach the case; no one for "no one in particular"."""
    return (
        viewer is not None
        and viewer.has_perm("outreach.view_visit")
        and cached_access(viewer, case).allows(Capability.READ)
    )


@dataclass(frozen=True)
class CaseVisit:
    """A visit on its case's timeline; `content` says whether its place, purpose, result
    and notes are shown (`may_read_visits`)."""

    visit: Visit
    content: bool


VISIT_TEMPLATE = "outreach/_case_visit.html"


def case_timeline_entries(case: Case, *, viewer: User | None) -> list[TimelineEntry]:
    """The visits of `case` for its timeline (one query). A done visit is shown inside
    the contact it logged (`TimelineEntry.contact`), and only to a viewer who may read its
    content (the contact says the rest); a planned, ongoing or cancelled one stands on its
    own with its kind and state, and its place and purpose for such a viewer. The entries
    that show content name the visit for the page's audit event."""
    content = may_read_visits(viewer, case)
    entries = []
    for visit in case.visits.order_by("planned_start"):
        done = visit.status == V.DONE and visit.contact_id is not None
        if done and not content:
            continue
        entries.append(
            TimelineEntry(
                visit.planned_start,
                "event",
                CaseVisit(visit, content),
                template=VISIT_TEMPLATE,
                shows=("visits", str(visit.pk)) if content else None,
                contact=visit.contact_id if done else None,
            )
        )
    return entries


def week_schedule(user: User, *, monday: datetime.date, team: bool = False) -> QuerySet[Visit]:
    """Visits of the week starting `monday`: the user's own, or the organisation's."""
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(monday, datetime.time.min, tzinfo=tz)
    visits = visible_visits(user).filter(
        planned_start__gte=start, planned_start__lt=start + datetime.timedelta(days=7)
    )
    if not team:
        visits = visits.filter(workers=user)
    return visits.select_related("case").prefetch_related("workers").order_by("planned_start")


def overdue_visits(*, now: datetime.datetime, user: User | None = None) -> QuerySet[Visit]:
    """Started visits whose check-in deadline has passed with no check-in: those `user`'s
    organisation sent out (its supervisors' dashboard: `Visit.objects.sent_out_by`), or,
    without a user, every one (the scheduler's command, `services.report_overdue`). A
    safety list, by the organisation that sent the worker out, whatever the case's
    organisation now."""
    visits = Visit.objects.sent_out_by(user) if user is not None else Visit.objects.unscoped()
    return (
        visits.filter(status=V.IN_PROGRESS, checked_in_at__isnull=True, checkin_due_at__lt=now)
        .select_related("case")
        .order_by("checkin_due_at")
    )


def my_unchecked_visits(user: User, *, now: datetime.datetime) -> QuerySet[Visit]:
    """The user's visits (as a worker, of visible cases) past their planned start and
    not checked in: not yet started, or started and not back."""
    return (
        visible_visits(user)
        .filter(
            workers=user,
            planned_start__lt=now,
            checked_in_at__isnull=True,
            status__in=[V.PLANNED, V.IN_PROGRESS],
        )
        .order_by("planned_start")
    )


def my_visits_today(user: User) -> QuerySet[Visit]:
    today = timezone.localdate()
    return (
        visible_visits(user)
        .filter(workers=user, planned_start__date=today)
        .exclude(status=V.CANCELLED)
        .select_related("case")
        .order_by("planned_start")
    )


def visit_counts(*, start: datetime.date, end: datetime.date) -> dict[str, int]:
    """Done visits by type in [start, end] (outreach contacts: 面談・訪問 vs 同行支援)."""
    rows = (
        Visit.objects.unscoped()  # statistics: counts only
        .filter(
            status=V.DONE,
            contact__occurred_at__date__gte=start,
            contact__occurred_at__date__lte=end,
        )
        .values("kind")
        .annotate(n=Count("id"))
    )
    return {row["kind"]: row["n"] for row in rows}


def attendance_counts(*, start: datetime.date, end: datetime.date) -> dict[str, dict[str, int]]:
    """Sessions and attendance (延べ) by programme kind, and use from outside the host
    municipality (居住地外利用: residence known and different from the host)."""
    sessions = dict(
        Session.objects.unscoped()  # statistics: counts only
        .filter(held_on__range=(start, end))
        .values_list("programme__kind")
        .annotate(n=Count("id"))
    )
    attendance = (
        Attendance.objects.unscoped()  # statistics: counts only
        .filter(session__held_on__range=(start, end))
        .values("session__programme__kind")
        .annotate(
            total=Sum("count"),
            outside=Sum(
                "count",
                filter=Q(
                    residence__isnull=False, session__programme__host_municipality__isnull=False
                )
                & ~Q(residence=F("session__programme__host_municipality")),
            ),
        )
    )
    result = {
        kind: {"sessions": sessions.get(kind, 0), "attendance": 0, "outside": 0}
        for kind in Programme.Kind.values
    }
    for row in attendance:
        cell = result[row["session__programme__kind"]]
        cell["attendance"] = row["total"] or 0
        cell["outside"] = row["outside"] or 0
    return result
