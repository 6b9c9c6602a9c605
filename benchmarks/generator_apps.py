"""The rows of other apps that benchmarks/generator.py writes around its cases: meetings
with external attendance, programmes with sessions and attendance grids, and per case its
milestones (through casework's writer), visits, agenda items with actions and referrals
with their transitions (plain `bulk_create`). A mixin of `generator.Generator`, which
gives `rng`, `pick`, `insert`, `timed` and the organisations, staff and dates."""

from __future__ import annotations

import datetime
import uuid


class OtherApps:
    def meetings(self) -> None:
        from meetings.models import ExternalAttendance, Meeting

        total = self.contacts_wanted // 1000 + 200
        rows = []
        for i in range(total):
            kind = self.pick(
                {
                    Meeting.Kind.MDT_MONTHLY: 40,
                    Meeting.Kind.CASE_CONFERENCE: 45,
                    Meeting.Kind.NETWORK: 15,
                },
            )
            host = (
                self.centre
                if kind == Meeting.Kind.MDT_MONTHLY or i % 3
                else self.rng.choice(self.towns)
            )
            held = self.moment(self.first_day + datetime.timedelta(days=i * self.days // total))
            rows.append(
                Meeting(
                    kind=kind,
                    host=host,
                    held_at=held,
                    legal_basis=Meeting.LegalBasis.SUPPORT_MEETING,
                    status=Meeting.Status.HELD
                    if held < self.now - datetime.timedelta(days=1)
                    else Meeting.Status.PLANNED,
                    created_by=self.supervisors[host.pk],
                )
            )
        self.insert(Meeting, rows)
        if rows[0].pk is None:  # SQLite before 3.35 returns no ids
            rows = list(Meeting.objects.order_by("id"))
        self.meetings_by_org: dict[int, list] = {}
        for meeting in rows:
            self.meetings_by_org.setdefault(meeting.host_id, []).append(meeting)
        self.insert(
            ExternalAttendance,
            [
                ExternalAttendance(
                    meeting=m,
                    organisation_type=self.rng.choice(ExternalAttendance.OrganisationType.values),
                    profession="保健師",
                    count=self.rng.randint(1, 4),
                )
                for m in rows
                for _ in range(2)
            ],
        )
        self.agenda_share = (total * 5) / self.cases_wanted

    def case_extras(self, extras: list) -> None:
        """Milestones, visits, agenda items and actions, referrals of one chunk of cases,
        while their data keys are in the cache."""
        from casework import writers
        from casework.models import Milestone
        from meetings.models import ActionItem, AgendaItem
        from outreach.models import Visit
        from referrals.models import Referral, ReferralTransition

        rows: dict[type, list] = {
            model: [] for model in (Milestone, Visit, Visit.workers.through, AgendaItem, ActionItem)
        }
        referrals: list = []
        moves: list = []
        for case, contacts in extras:
            lead = contacts[0].staff
            self.milestone(case, lead, rows[Milestone])
            self.visits(case, contacts, rows[Visit], rows[Visit.workers.through])
            self.agenda(case, lead, rows[AgendaItem], rows[ActionItem])
            if self.rng.random() < self.referral_share:
                referrals.append(self.referral(case, lead, Referral, ReferralTransition, moves))
        milestones = rows.pop(Milestone)
        self.timed(
            {Milestone._meta.db_table: len(milestones)},
            lambda: writers.bulk_record_milestones(milestones),
        )
        self.counts[Milestone.history.model._meta.db_table] += len(milestones)
        for model, made in rows.items():
            self.insert(model, made)
        self.insert(Referral, referrals)
        self.insert(ReferralTransition, moves)

    def milestone(self, case, lead, milestones: list) -> None:
        from casework.models import Milestone

        if self.rng.random() < 0.2:
            kind = self.pick(self.demo.MILESTONES)
            milestones.append(
                Milestone(
                    id=uuid.uuid4(),
                    case=case,
                    kind=kind,
                    achieved_on=self.day_after(case.opened_on, self.today),
                    note=self.demo.MILESTONE_NOTES[kind],
                    recorded_by=lead,
                )
            )

    def visits(self, case, contacts: list, visits: list, workers: list) -> None:
        """Some home visits and accompaniments were planned visits: the visit, done, owns
        the contact it logged."""
        from casework.models import Channel
        from outreach.models import Visit

        for contact in contacts:
            if contact.channel in (Channel.HOME_VISIT, Channel.ACCOMPANIMENT) and (
                self.rng.random() < 0.07
            ):
                visit = Visit(
                    id=uuid.uuid4(),
                    case=case,
                    organisation_id=case.organisation_id,
                    data_key_id=case.data_key_id,
                    kind=contact.channel,
                    destination=Visit.Destination.HOME,
                    planned_start=contact.occurred_at,
                    status=Visit.Status.DONE,
                    started_at=contact.occurred_at,
                    checkin_due_at=contact.occurred_at + datetime.timedelta(hours=2),
                    checked_in_at=contact.occurred_at + datetime.timedelta(minutes=90),
                    checked_in_by=contact.staff,
                    outcome=self.rng.choice(Visit.Outcome.values),
                    travel_minutes=self.rng.randint(10, 60),
                    notes="【デモ】訪問の記録。",
                    contact=contact,
                    created_by=contact.staff,
                )
                visits.append(visit)
                workers.append(Visit.workers.through(visit=visit, user=contact.staff))

    def agenda(self, case, lead, items: list, actions: list) -> None:
        from meetings.models import ActionItem, AgendaItem

        meetings = self.meetings_by_org.get(case.organisation_id)
        if not (meetings and self.rng.random() < self.agenda_share):
            return
        meeting = self.rng.choice(meetings)
        item = AgendaItem(
            id=uuid.uuid4(),
            meeting=meeting,
            case=case,
            data_key_id=case.data_key_id,
            reason="定例の見直し",
            question="【デモ】今後の支援方針について",
            decisions="【デモ】月1回の訪問を続ける。",
            next_review_on=meeting.held_at.date() + datetime.timedelta(days=90),
            review_closed_at=meeting.held_at if meeting.status == "held" else None,
        )
        items.append(item)
        if self.rng.random() < 0.5:
            actions.append(
                ActionItem(
                    id=uuid.uuid4(),
                    agenda_item=item,
                    case=case,
                    data_key_id=case.data_key_id,
                    description="【デモ】関係機関に連絡する。",
                    assignee=lead,
                    due_on=meeting.held_at.date() + datetime.timedelta(days=14),
                    done_at=meeting.held_at + datetime.timedelta(days=7)
                    if meeting.held_at < self.now - datetime.timedelta(days=7)
                    else None,
                )
            )

    def referral(self, case, lead, Referral, ReferralTransition, moves) -> object:
        status = self.pick(
            {
                Referral.Status.SENT: 15,
                Referral.Status.ACCEPTED: 25,
                Referral.Status.DECLINED: 5,
                Referral.Status.COMPLETED: 45,
                Referral.Status.WITHDRAWN: 5,
                Referral.Status.DRAFT: 5,
            },
        )
        target = self.rng.choice(
            [o for o in [*self.towns, *self.partners, self.centre] if o.pk != case.organisation_id]
        )
        sent = None
        if status != Referral.Status.DRAFT:
            sent = self.moment(self.day_after(case.opened_on, self.today))
        referral = Referral(
            id=uuid.uuid4(),
            case=case,
            data_key_id=case.data_key_id,
            from_organisation_id=case.organisation_id,
            to_organisation=target,
            kind=self.rng.choice(Referral.Kind.values),
            purpose="【デモ】居住地での継続支援のため。",
            status=status,
            consent_given=True,
            consent_on=case.opened_on,
            consent_method=Referral.ConsentMethod.WRITTEN,
            share_summary=True,
            created_by=lead,
            sent_at=sent,
            responded_at=sent + datetime.timedelta(days=3)
            if sent and status not in (Referral.Status.SENT, Referral.Status.WITHDRAWN)
            else None,
        )
        path = {
            "draft": [],
            "sent": ["sent"],
            "accepted": ["sent", "accepted"],
            "declined": ["sent", "declined"],
            "completed": ["sent", "accepted", "completed"],
            "withdrawn": ["sent", "withdrawn"],
        }[status]
        previous = "draft"
        for step in path:
            moves.append(
                ReferralTransition(
                    referral=referral, from_status=previous, to_status=step, by=lead, at=sent
                )
            )
            previous = step
        return referral

    def programmes(self) -> None:
        from outreach.models import Attendance, ParticipantType, Programme, Session

        programmes = []
        for i in range(60):
            host = self.towns[i % len(self.towns)]
            programmes.append(
                Programme(
                    kind=Programme.Kind.values[i % len(Programme.Kind.values)],
                    name=f"デモ教室{i}",
                    organiser=self.centre if i % 2 == 0 else host,
                    host_municipality=host,
                    region=host.region,
                )
            )
        self.insert(Programme, programmes)
        if programmes[0].pk is None:
            programmes = list(Programme.objects.order_by("-id")[:60])
        total = self.contacts_wanted // 333
        sessions = [
            Session(
                programme=programmes[i % len(programmes)],
                held_on=self.first_day + datetime.timedelta(days=i * self.days // max(total, 1)),
                theme="デモ",
            )
            for i in range(total)
        ]
        self.insert(Session, sessions)
        if sessions and sessions[0].pk is None:
            sessions = list(Session.objects.order_by("-id")[:total])
        self.insert(
            Attendance,
            [
                Attendance(
                    session=s,
                    participant_type=kind,
                    residence=self.rng.choice(self.towns)
                    if kind != ParticipantType.OTHER
                    else None,
                    count=self.rng.randint(1, 6),
                )
                for s in sessions
                for kind in ParticipantType.values
            ],
        )
