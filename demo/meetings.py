"""Demo meetings for `manage.py seed_demo`: a year of monthly MDT meetings with agendas,
minutes and actions, some municipal case conferences, two network meetings, and next
month's MDT meeting still to prepare. Goes through the services (the network meetings'
held state excepted); does nothing when meetings already exist."""

from __future__ import annotations

import datetime

from django.utils import timezone

from accounts.models import User
from casework.models import Case
from meetings import services
from meetings.models import ExternalAttendance, Meeting

from .context import SeedContext


def seed(context: SeedContext) -> None:
    if Meeting.objects.exists():
        return
    supervisor, counsellor, mdt = (
        context.users.get(n) for n in ("supervisor", "counsellor", "mdt")
    )
    if supervisor is None or counsellor is None:
        return
    cases = list(
        Case.objects.filter(organisation=context.organisations["centre"], restricted=False).exclude(
            status=Case.Status.CLOSED
        )[:40]
    )
    attendees = [u for u in (supervisor, counsellor, mdt) if u is not None]
    made = _monthly_mdt_meetings(context, supervisor, counsellor, attendees, cases)
    # Next month's, still to prepare.
    services.plan_meeting(
        supervisor,
        kind=Meeting.Kind.MDT_MONTHLY,
        held_at=_at(context.today + datetime.timedelta(days=20), 14, 0),
        legal_basis=Meeting.LegalBasis.INTERNAL,
        attendees=attendees,
    )
    made += _network_meetings(context, supervisor)
    made += _municipal_conferences(context)
    context.counts["meetings"] = made


def _at(day: datetime.date, hour: int, minute: int) -> datetime.datetime:
    return datetime.datetime.combine(
        day, datetime.time(hour, minute), tzinfo=timezone.get_current_timezone()
    )


def _monthly_mdt_meetings(
    context: SeedContext,
    supervisor: User,
    counsellor: User,
    attendees: list[User],
    cases: list[Case],
) -> int:
    """The past year's monthly MDT meetings: three cases each, with minutes and an action."""
    rng = context.rng
    months = range(12, 0, -1)
    for months_ago in months:
        day = context.today - datetime.timedelta(days=30 * months_ago)
        meeting = services.plan_meeting(
            supervisor,
            kind=Meeting.Kind.MDT_MONTHLY,
            held_at=_at(day, 14, 0),
            legal_basis=Meeting.LegalBasis.INTERNAL,
            place="センター会議室",
            attendees=attendees,
        )
        for case in rng.sample(cases, 3):
            item = services.add_to_agenda(supervisor, meeting, case=case, reason="（デモ）")
            services.record_minutes(
                supervisor,
                item,
                discussion="【デモ】訪問の継続について検討した。",
                decisions="【デモ】月1回の訪問を継続する。",
                next_review_on=day + datetime.timedelta(days=60),
                take_on_mdt=rng.random() < 0.4,
                close_review=True,
            )
            services.add_action(
                supervisor,
                item,
                description="【デモ】家族と面談する",
                assignee=counsellor,
                due_on=day + datetime.timedelta(days=21),
            )
    return len(months)


def _network_meetings(context: SeedContext, supervisor: User) -> int:
    """Two network meetings, held, with the agencies that attended."""
    rng = context.rng
    for months_ago in (10, 4):
        day = context.today - datetime.timedelta(days=30 * months_ago)
        network = services.plan_meeting(
            supervisor,
            kind=Meeting.Kind.NETWORK,
            held_at=_at(day, 13, 30),
            legal_basis=Meeting.LegalBasis.SUPPORT_MEETING,
            place="県庁講堂",
        )
        # A network meeting has no agenda and no count to mark it held: set directly.
        Meeting.objects.filter(pk=network.pk).update(status=Meeting.Status.HELD)
        for org_type in ExternalAttendance.OrganisationType.values:
            services.add_external_attendance(
                supervisor, network, organisation_type=org_type, count=rng.randint(1, 8)
            )
    return 2


def _municipal_conferences(context: SeedContext) -> int:
    """Case conferences hosted by a municipality, recorded by its liaison through the same
    services as on the meeting page: attending agencies, and the residents discussed who
    are not in the system, as a count. Only the municipality with a demo user holds one."""
    liaison = context.users.get("liaison")
    if liaison is None or liaison.organisation_id is None:
        return 0
    made = 0
    for days_ago, discussed in ((150, 2), (45, 3)):
        conference = services.plan_meeting(
            liaison,
            kind=Meeting.Kind.CASE_CONFERENCE,
            held_at=_at(context.today - datetime.timedelta(days=days_ago), 10, 0),
            legal_basis=Meeting.LegalBasis.SUPPORT_MEETING,
            place="市役所 会議室",
        )
        for org_type, profession in (("welfare", "社会福祉士"), ("medical", "保健師")):
            services.add_external_attendance(
                liaison, conference, organisation_type=org_type, profession=profession
            )
        services.record_unregistered_cases(liaison, conference, count=discussed)
        made += 1
    return made
