"""Demo outreach for `manage.py seed_demo`: visits of both kinds (done, planned, one with an
overdue check-in), family classes in three regions and an ibasho used across municipal
borders. Goes through the services; does nothing when visits already exist."""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from accounts.models import Organisation, Region, User
from casework.models import Case
from outreach import services
from outreach.models import ParticipantType, Programme, Visit

from .context import SeedContext


def seed(context: SeedContext) -> None:
    if Visit.objects.exists():
        return
    centre = context.organisations["centre"]
    worker = context.users.get("outreach")
    if worker is None:
        return
    rng = context.rng
    cases = list(
        Case.objects.filter(organisation=centre, lead_workers=worker, restricted=False).exclude(
            status=Case.Status.CLOSED
        )[:30]
    )
    now = timezone.now()
    for i, case in enumerate(cases):
        _visit(context, worker, case, i, now)
    context.counts["visits"] = len(cases)
    context.counts["attendance"] = _programmes(context, centre, rng)


def _working_hours(day: datetime.datetime, hour: int) -> datetime.datetime:
    """`day` at `hour` o'clock local time (visits happen in working hours)."""
    return timezone.localtime(day).replace(hour=hour, minute=0, second=0, microsecond=0)


def _visit(context: SeedContext, worker: User, case: Case, i: int, now: datetime.datetime) -> None:
    """The `i`th case's visit: the first 20 done in the past weeks, the next 7 planned for
    this week, the rest started hours ago and never checked in (shown as overdue)."""
    rng = context.rng
    kind = Visit.Kind.ACCOMPANIMENT if i % 4 == 0 else Visit.Kind.HOME_VISIT
    destination = (
        Visit.Destination.HOSPITAL if kind == Visit.Kind.ACCOMPANIMENT else Visit.Destination.HOME
    )
    # Days since the case opened: a visit done in the past weeks falls at least a day
    # after the case's first contact.
    age = (context.today - case.opened_on).days
    if i < 20 and age >= 3:  # done in the past weeks
        back = rng.randint(1, min(60, age - 2))
        when = _working_hours(now - datetime.timedelta(days=back), 10 + rng.randint(0, 5))
        visit = services.plan_visit(
            worker, case, planned_start=when, workers=[worker], kind=kind, destination=destination
        )
        services.start_visit(worker, visit, now=when)
        services.complete_visit(
            worker,
            visit,
            outcome=rng.choice(Visit.Outcome.values),
            minutes=rng.randint(30, 90),
            travel_minutes=rng.randint(10, 60),
            notes="【デモ】玄関先で母親と話した。",
            consulter=rng.choice(["self", "parent"]),
        )
    elif i < 27:  # planned this week
        when = _working_hours(now + datetime.timedelta(days=i - 21), 10 + i % 5)
        services.plan_visit(
            worker,
            case,
            planned_start=when
            if when > now + datetime.timedelta(hours=1)
            else when + datetime.timedelta(days=1),
            workers=[worker],
            kind=kind,
            destination=destination,
        )
    else:  # started hours ago and never checked in: shows as overdue
        # In working hours, at least three hours before now (the check-in is due after two).
        latest = now - datetime.timedelta(hours=3 + i - 27)
        when = (
            latest
            if 9 <= timezone.localtime(latest).hour < 17
            else _working_hours(latest - datetime.timedelta(days=1), 14)
        )
        visit = services.plan_visit(worker, case, planned_start=when, workers=[worker], kind=kind)
        services.start_visit(worker, visit, now=when)


def _programmes(context: SeedContext, centre: Organisation, rng: random.Random) -> int:
    supervisor = context.users["supervisor"]
    towns = list(Organisation.objects.filter(kind=Organisation.Kind.MUNICIPALITY))
    hosts = {"北勢": "242021", "中勢": "242012", "東紀州": "242098"}
    programmes = [
        Programme.objects.create(
            kind=Programme.Kind.FAMILY_CLASS,
            name=f"ひきこもり家族教室（{region}）",
            organiser=centre,
            region=Region.objects.get(name=region),
            host_municipality=Organisation.objects.get(local_government_code=code),
        )
        for region, code in hosts.items()
    ]
    programmes.append(
        Programme.objects.create(
            kind=Programme.Kind.IBASHO,
            name="居場所「みちくさ」（デモ）",
            organiser=centre,
            host_municipality=Organisation.objects.get(local_government_code="242012"),
            region=Region.objects.get(name="中勢"),
        )
    )
    total = 0
    themes = ["ひきこもりの理解", "家族の対応", "支援機関の紹介", "本人との会話"]
    for programme in programmes:
        for n in range(4):
            held = context.today - datetime.timedelta(days=30 * (n + 1))
            session = services.add_session(
                supervisor, programme, held_on=held, theme=themes[n], venue="デモ会館"
            )
            grid: dict[tuple[str, int | None], int] = {}
            for participant_type in (
                ParticipantType.FAMILY,
                ParticipantType.SELF,
                ParticipantType.SUPPORTER,
            ):
                for town in rng.sample(towns, 3):
                    if rng.random() < 0.6:
                        grid[(participant_type.value, town.pk)] = rng.randint(1, 6)
            grid[(ParticipantType.FAMILY.value, programme.host_municipality_id)] = rng.randint(
                3, 10
            )
            total += services.record_attendance(supervisor, session, grid=grid)
    return total
