"""Crafted records for the counting rules: the shared world (two regions, the centre, a town
and a village) with helpers that write real rows (encrypted fields included) dated in
Asia/Tokyo."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest

from casework.models import Contact, DataKey, Milestone
from indicators.models import Direction, Indicator, Plan
from meetings.models import AgendaItem, Meeting
from outreach.models import Attendance, Programme, Session, Visit
from tests.factories import make_case, make_client
from tests.world import World

TOKYO = ZoneInfo("Asia/Tokyo")


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime.datetime:
    """An aware time in Tokyo."""
    return datetime.datetime(year, month, day, hour, minute, tzinfo=TOKYO)


class IndicatorWorld(World):
    """The shared world with helpers that write the records the figures count."""

    def plan(self, name: str, *indicators: dict) -> Plan:
        """A plan for fiscal 2024–2026 owned by the centre, one direction「方向」, and an
        indicator for each dict of fields (code, name, unit, metric, …)."""
        plan = Plan.objects.create(
            name=name, organisation=self.centre, first_year=2024, last_year=2026
        )
        direction = Direction.objects.create(plan=plan, number=1, name="方向")
        for fields in indicators:
            Indicator.objects.create(direction=direction, **fields)
        return plan

    def contact(self, case=None, when=None, organisation=None, **fields) -> Contact:
        organisation = organisation or (case.organisation if case else self.centre)
        when = when or at(2025, 6, 1)
        key = case.data_key if case else DataKey.for_organisation_year(organisation.pk, 2025)
        return Contact.objects.create(
            organisation=organisation,
            staff=self.counsellor,
            case=case,
            occurred_at=when,
            data_key=key,
            summary="テスト",
            **fields,
        )

    def case(self, opened_on=datetime.date(2025, 5, 1), organisation=None, client=None, **fields):
        organisation = organisation or self.centre
        if client is None:
            client = make_client(organisation, municipality=self.town)
        return make_case(organisation, client=client, opened_on=opened_on, summary="", **fields)

    def milestone(self, case, kind, day) -> Milestone:
        return Milestone.objects.create(
            case=case,
            kind=kind,
            achieved_on=day,
            recorded_by=self.counsellor,
            data_key=case.data_key,
        )

    def visit(self, case, when, status=Visit.Status.DONE, kind=Visit.Kind.HOME_VISIT) -> Visit:
        contact = (
            # As outreach.services.complete_visit logs it: the kind's channel.
            self.contact(case, when, channel=Visit.KIND_CHANNEL[kind])
            if status == Visit.Status.DONE
            else None
        )
        return Visit.objects.create(
            case=case,
            organisation=case.organisation,
            kind=kind,
            planned_start=when,
            status=status,
            contact=contact,
            created_by=self.counsellor,
            data_key=case.data_key,
        )

    def meeting(self, host, when, kind=Meeting.Kind.CASE_CONFERENCE, held=True) -> Meeting:
        return Meeting.objects.create(
            kind=kind,
            host=host,
            held_at=when,
            status=Meeting.Status.HELD if held else Meeting.Status.PLANNED,
            created_by=self.counsellor,
        )

    def agenda(self, meeting, case) -> AgendaItem:
        return AgendaItem.objects.create(meeting=meeting, case=case, data_key=case.data_key)

    def session(self, kind, host, day, counts) -> Session:
        programme = Programme.objects.create(
            kind=kind, name=f"{kind}", organiser=self.centre, host_municipality=host
        )
        session = Session.objects.create(programme=programme, held_on=day)
        for residence, number in counts:
            Attendance.objects.create(
                session=session, participant_type="self", residence=residence, count=number
            )
        return session


@pytest.fixture
def world(world: World) -> IndicatorWorld:
    """The shared world, with the helpers above."""
    return world.extended(IndicatorWorld)
