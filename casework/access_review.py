"""Access review for supervisors: who in their organisation opened or revealed which case
in a period, with flags for unusual patterns — many identity reveals, cases outside the
person's assignment, access at night, break-glass. Read from the audit trail; marking a
period reviewed is itself an audit event (the mark is the event)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from audit.models import Action, Event
from audit.services import record

from .models import Case

WATCHED = (Action.VIEW, Action.IDENTITY_REVEAL, Action.BREAK_GLASS)
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
class Review:
    start: datetime.date
    end: datetime.date
    people: list[PersonSummary]
    events: list[Event]
    marks: list[Event]


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
    return Review(start, end, ordered, events, marks)


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
