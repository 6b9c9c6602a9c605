"""The casework demo's contacts and milestones: what happened on the planned cases.

`ContactPlanner` gives each planned case its contacts (the first one on the day it
opened, clustered in the first weeks, the last one recent for an open case), adds the
anonymous contacts of people who never opened a case, plants open follow-ups for the
demo staff's dashboards and draws the milestones. Nothing is saved here; what casework
derives when it writes a contact (its data key, the snapshot of a registered person's age
band, gender and residence) is left to `casework.writers`.
"""

from __future__ import annotations

import datetime

from accounts.models import Organisation, User
from casework.models import Case, Channel, Client, Consulter, Contact, Milestone

from .cases import Plan, Prefecture
from .draw import Draw, stamp
from .tables import (
    ANONYMOUS_AGE_BANDS,
    ANONYMOUS_CHANNELS,
    ANONYMOUS_CONSULTERS,
    ANONYMOUS_GENDERS,
    CHANNELS,
    CONSULTERS,
    FIRST_CHANNELS,
    FOLLOW_UPS,
    MILESTONE_CASES,
    MILESTONE_NOTES,
    MILESTONES,
    SECOND_MILESTONES,
    TOPICS,
)


class ContactPlanner:
    def __init__(self, draw: Draw, prefecture: Prefecture, start: datetime.date) -> None:
        self.draw = draw
        self.rng = draw.rng
        self.today = draw.today
        self.prefecture = prefecture
        self.start = start  # the first day of the previous fiscal year
        self.anonymous: list[Contact] = []
        self.milestones: list[Milestone] = []

    # --- the contacts of a case -----------------------------------------------------------

    def case_contacts(self, plan: Plan) -> None:
        moments = self.contact_moments(plan)
        for index, when in enumerate(moments):
            plan.contacts.append(self.case_contact(plan, when, first=index == 0))
        case = plan.case
        case.last_contact_at = moments[-1]
        stamp(case, moments[0], case.updated_by)
        case.updated_at = max(
            moments[0],
            min(
                self.draw.now,
                datetime.datetime.combine(
                    case.status_changed_on, datetime.time(17, 30), tzinfo=self.draw.tz
                ),
            ),
        )
        if plan.client is not None:
            stamp(plan.client, moments[0], case.updated_by)

    def contact_moments(self, plan: Plan) -> list[datetime.datetime]:
        """When the case's planned contacts happen, in order; the first on the day it opened."""
        rng, draw = self.rng, self.draw
        opened_on = plan.case.opened_on
        window = (plan.last_day - opened_on).days
        days = []
        for _ in range(plan.planned - 1):
            # Contacts cluster in the first weeks, while the situation is being assessed.
            reach = min(45, window) if rng.random() < 0.35 else window
            day = opened_on + datetime.timedelta(days=rng.randint(1, max(1, reach)))
            days.append(draw.weekday(min(day, plan.last_day), opened_on, plan.last_day))
        if days and plan.recent_within and plan.last_day == self.today:
            earliest = max(opened_on, self.today - datetime.timedelta(days=plan.recent_within))
            days[-1] = draw.weekday(draw.day_between(earliest, self.today), earliest, self.today)
        return sorted(draw.moment(day) for day in [opened_on, *days])

    def case_contact(self, plan: Plan, when: datetime.datetime, *, first: bool) -> Contact:
        rng, draw, case = self.rng, self.draw, plan.case
        channel = draw.pick(FIRST_CHANNELS if first else CHANNELS)
        consulter: str
        if channel == Channel.ACCOMPANIMENT and plan.client is not None:
            consulter = Consulter.SELF  # an accompanied visit is with the person
        elif plan.client is None or rng.random() < 0.7:
            consulter = plan.consulter
        else:
            consulter = draw.pick(CONSULTERS)
        staff = self.contact_staff(plan, channel)
        topics = draw.topics(plan.topic_weights)
        minutes = draw.minutes(channel)
        day = when.date()
        contact = Contact(
            case=case,
            organisation=case.organisation,
            staff=staff,
            occurred_at=when,
            channel=channel,
            consulter=consulter,
            kind=Contact.Kind.FIRST if first else Contact.Kind.CONTINUING,
            minutes=minutes,
            topics=topics,
            referring_organisation=self.referrer(case.organisation, plan.client)
            if consulter == Consulter.AGENCY
            else None,
            summary=draw.summary(channel, consulter, topics),
            updated_by=staff,
        )
        if plan.client is None:  # the family's account; a registered person's is derived
            contact.age_band, contact.gender = plan.age_band, plan.gender
            contact.municipality = plan.residence
        if rng.random() < 0.12:
            contact.follow_up = "【デモ】" + rng.choice(FOLLOW_UPS)
            contact.follow_up_due = day + datetime.timedelta(days=rng.randint(3, 21))
            contact.follow_up_done = (
                contact.follow_up_due < self.today or case.status == Case.Status.CLOSED
            )
        stamp(contact, draw.later(when, minutes + rng.randint(5, 180)), staff)
        return contact

    def contact_staff(self, plan: Plan, channel: str) -> User:
        rng, prefecture = self.rng, self.prefecture
        if not plan.at_centre:
            # A window with no demo user borrows the centre counsellor: only so the row has
            # a member of staff, which the schema requires.
            return rng.choice(plan.leads) if plan.leads else prefecture.centre_staff[0]
        if not plan.case.restricted:
            visiting = channel in (Channel.HOME_VISIT, Channel.ACCOMPANIMENT)
            if visiting and prefecture.outreach is not None and rng.random() < 0.8:
                return prefecture.outreach
            if prefecture.supervisor is not None and rng.random() < 0.04:
                return prefecture.supervisor
        return rng.choice(plan.leads)

    def referrer(self, organisation: Organisation, client: Client | None) -> Organisation | None:
        """A plausible referring agency: a partner, the person's municipality (for the
        centre) or the centre (for a municipality)."""
        centre = self.prefecture.centre
        candidates = list(self.prefecture.partners)
        if organisation.pk != centre.pk:
            candidates.append(centre)
        elif client is not None and client.municipality is not None:
            candidates.append(client.municipality)
        return self.rng.choice(candidates) if candidates else None

    # --- contacts without a case ----------------------------------------------------------

    def anonymous_contacts(self, count: int) -> None:
        rng, draw, prefecture = self.rng, self.draw, self.prefecture
        for _ in range(count):
            local = bool(prefecture.windows) and rng.random() < 0.25
            organisation = rng.choice(prefecture.windows) if local else prefecture.centre
            day = draw.weekday(draw.day_between(self.start, self.today), self.start, self.today)
            when = draw.moment(day)
            if local:
                staff_pool = (
                    prefecture.local_staff.get(organisation.pk) or prefecture.centre_staff[:1]
                )
            else:
                staff_pool = prefecture.centre_staff
            staff = rng.choice(staff_pool)
            channel = draw.pick(ANONYMOUS_CHANNELS)
            consulter = draw.pick(ANONYMOUS_CONSULTERS)
            topics = draw.topics(TOPICS)
            minutes = draw.minutes(channel)
            if local:
                residence = draw.residence(organisation)
            else:
                residence = draw.residence() if rng.random() < 0.9 else None
            contact = Contact(
                case=None,
                organisation=organisation,
                staff=staff,
                occurred_at=when,
                channel=channel,
                consulter=consulter,
                kind=Contact.Kind.FIRST if rng.random() < 0.85 else Contact.Kind.CONTINUING,
                minutes=minutes,
                topics=topics,
                referring_organisation=self.referrer(organisation, None)
                if consulter == Consulter.AGENCY
                else None,
                age_band=draw.pick(ANONYMOUS_AGE_BANDS),
                gender=draw.pick(ANONYMOUS_GENDERS),
                municipality=residence,
                summary=draw.summary(channel, consulter, topics),
                updated_by=staff,
            )
            stamp(contact, draw.later(when, minutes + rng.randint(5, 120)), staff)
            self.anonymous.append(contact)

    # --- follow-ups and milestones --------------------------------------------------------

    def plant_follow_ups(self, plans: list[Plan]) -> None:
        """Open follow-ups for the demo counsellor and outreach worker, some overdue and
        some due within the week, on their own open cases, so their dashboards show some."""
        for user in (self.prefecture.counsellor, self.prefecture.outreach):
            if user is None:
                continue
            own = [
                contact
                for plan in plans
                if user in plan.leads and plan.case.status != Case.Status.CLOSED
                for contact in plan.contacts
                if contact.staff_id == user.pk
            ]
            own.sort(key=lambda contact: contact.occurred_at, reverse=True)
            two_days_ago = self.today - datetime.timedelta(days=2)
            upcoming = own[:3]
            overdue = [c for c in own[3:] if c.occurred_at.date() <= two_days_ago][:3]
            for contact in upcoming:
                due = self.today + datetime.timedelta(days=self.rng.randint(0, 7))
                self.open_follow_up(contact, due)
            for contact in overdue:
                after_contact = contact.occurred_at.date() + datetime.timedelta(days=1)
                earliest = max(after_contact, self.today - datetime.timedelta(days=6))
                self.open_follow_up(
                    contact,
                    self.draw.day_between(earliest, self.today - datetime.timedelta(days=1)),
                )

    def open_follow_up(self, contact: Contact, due: datetime.date) -> None:
        contact.follow_up = "【デモ】" + self.rng.choice(FOLLOW_UPS)
        contact.follow_up_due = due
        contact.follow_up_done = False

    def plan_milestones(self, plans: list[Plan]) -> None:
        rng, draw = self.rng, self.draw
        eligible = [
            p
            for p in plans
            # A milestone needs someone of the case's own organisation to record it.
            if p.leads
            and len(p.contacts) >= 3
            and (p.contacts[-1].occurred_at.date() - p.case.opened_on).days >= 45
        ]
        for index, plan in enumerate(rng.sample(eligible, min(MILESTONE_CASES, len(eligible)))):
            kinds = dict(MILESTONES)
            if plan.client is None or self.today.year - plan.client.birth_date.year > 25:
                kinds.pop(Milestone.Kind.BACK_TO_SCHOOL)
            first_possible = plan.case.opened_on + datetime.timedelta(days=30)
            last_seen = plan.contacts[-1].occurred_at.date()
            dates = sorted(
                draw.day_between(first_possible, last_seen)
                for _ in range(2 if index < SECOND_MILESTONES else 1)
            )
            for achieved_on in dates:
                kind = draw.pick(kinds)
                kinds.pop(kind)
                recorder = plan.leads[0]
                milestone = Milestone(
                    case=plan.case,
                    kind=kind,
                    achieved_on=achieved_on,
                    note="【デモ】" + MILESTONE_NOTES[kind],
                    recorded_by=recorder,
                )
                at = datetime.datetime.combine(achieved_on, datetime.time(17, 30), tzinfo=draw.tz)
                stamp(milestone, min(at, draw.now), recorder)
                self.milestones.append(milestone)
