"""Access review for supervisors: who in their organisation opened or revealed which case
in a period, with flags for unusual patterns — many identity reveals, cases outside the
person's assignment, access at night, break-glass — and what administrators changed about
the organisation's staff (admin changes, approval requests and decisions, password and
second-factor resets). Read from the audit trail; marking a period reviewed is itself an
audit event (the mark is the event)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from audit.models import Action, Event
from audit.services import record

from .models import Case

WATCHED = (Action.VIEW, Action.IDENTITY_REVEAL, Action.BREAK_GLASS)
# Changes to accounts, recorded with the organisation concerned in
# detail["target_organisation"] (accounts.admin_audit, accounts.approvals).
ADMINISTRATION = (
    Action.ADMIN_CHANGE,
    Action.APPROVAL_REQUEST,
    Action.APPROVAL_DECISION,
    Action.PASSWORD_RESET,
    Action.FACTOR_RESET,
)
REVIEW_TYPE = "casework.AccessReview"


def is_night(moment: datetime.datetime) -> bool:
    hour = timezone.localtime(moment).hour
    start, end = settings.ACCESS_REVIEW_NIGHT
    return hour >= start or hour < end


@dataclass
class PersonSummary:
    actor_id: int
    label: str
    views: int = 0
    reveals: int = 0
    break_glass: int = 0
    night: int = 0
    cases: set[str] = field(default_factory=set)
    outside_assignment: set[str] = field(default_factory=set)

    @property
    def flags(self) -> list[str]:
        from django.utils.translation import gettext as _

        flags = []
        if self.reveals >= settings.ACCESS_REVIEW_REVEALS:
            flags.append(_("個人情報の表示が多い"))
        if self.outside_assignment:
            flags.append(_("担当外のケース"))
        if self.night:
            flags.append(_("夜間のアクセス"))
        if self.break_glass:
            flags.append(_("緊急アクセス"))
        return flags


@dataclass
class AdminChange:
    """One change to an account or master data, as the review lists it: names of fields,
    roles and people, never values."""

    event: Event

    @property
    def what(self) -> str:
        d = self.event.detail
        parts = [str(d.get("operation") or d.get("kind") or "")]
        if d.get("role"):
            parts.append(f"({d['role']})")
        if d.get("decision"):
            parts.append(str(d["decision"]))
        if d.get("fields"):
            parts.append(", ".join(d["fields"]))
        return " ".join(p for p in parts if p)

    @property
    def people(self) -> str:
        d = self.event.detail
        return " → ".join(str(d[k]) for k in ("requested_by", "approved_by") if d.get(k))


@dataclass
class Review:
    start: datetime.date
    end: datetime.date
    people: list[PersonSummary]
    events: list[Event]
    marks: list[Event]
    admin_changes: list[AdminChange] = field(default_factory=list)


def _bounds(
    start: datetime.date, end: datetime.date
) -> tuple[datetime.datetime, datetime.datetime]:
    tz = timezone.get_current_timezone()
    return (
        datetime.datetime.combine(start, datetime.time.min, tz),
        datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tz),
    )


def review(user, start: datetime.date, end: datetime.date) -> Review:
    """The organisation's case accesses in [start, end], by person, with flags."""
    low, high = _bounds(start, end)
    events = list(
        Event.objects.filter(
            organisation_id=user.organisation_id,
            action__in=WATCHED,
            occurred_at__gte=low,
            occurred_at__lt=high,
        ).order_by("occurred_at")
    )

    def case_code(event: Event) -> str:
        return (
            event.detail.get("case") or event.object_ref
            if event.action == Action.IDENTITY_REVEAL
            else event.object_ref
        )

    codes = {case_code(e) for e in events}
    leads: dict[str, set[int]] = defaultdict(set)
    for code, user_id in Case.lead_workers.through.objects.filter(case__code__in=codes).values_list(
        "case__code", "user_id"
    ):
        leads[code].add(user_id)
    people: dict[int, PersonSummary] = {}
    for event in events:
        person = people.setdefault(event.actor_id, PersonSummary(event.actor_id, event.actor_label))
        code = case_code(event)
        person.cases.add(code)
        if event.action == Action.VIEW:
            person.views += 1
        elif event.action == Action.IDENTITY_REVEAL:
            person.reveals += 1
        else:
            person.break_glass += 1
        if is_night(event.occurred_at):
            person.night += 1
        if event.actor_id not in leads.get(code, set()):
            person.outside_assignment.add(code)
    marks = list(
        Event.objects.filter(
            object_type=REVIEW_TYPE, object_ref=f"{user.organisation_id}:{start}:{end}"
        ).order_by("-seq")
    )
    ordered = sorted(people.values(), key=lambda p: (-len(p.flags), p.label))
    return Review(start, end, ordered, events, marks, administration(user, low, high))


def administration(user, low: datetime.datetime, high: datetime.datetime) -> list[AdminChange]:
    """Admin changes and approvals concerning the organisation or its staff, including a
    member moved away to another organisation."""
    org = user.organisation_id
    events = (
        Event.objects.filter(action__in=ADMINISTRATION, occurred_at__gte=low, occurred_at__lt=high)
        .filter(Q(detail__target_organisation=org) | Q(detail__previous_organisation=org))
        .order_by("occurred_at")
    )
    return [AdminChange(e) for e in events]


def mark_reviewed(user, start: datetime.date, end: datetime.date, note: str) -> Event:
    result = review(user, start, end)
    return record(
        Action.UPDATE,
        object_type=REVIEW_TYPE,
        object_ref=f"{user.organisation_id}:{start}:{end}",
        detail={
            "reviewed": True,
            "note": note.strip()[:500],
            "people": len(result.people),
            "events": len(result.events),
        },
    )
