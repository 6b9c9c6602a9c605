"""Visits: a done visit is one contact and one visit, a planned one neither; who may plan one."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from accounts.roles import Role
from casework.models import Channel, Contact
from outreach import selectors, services
from outreach.models import Visit
from tests.outreach.helpers import NOTE, at

pytestmark = pytest.mark.django_db


def test_a_done_visit_counts_once_as_a_contact_and_once_as_a_visit_a_planned_one_nowhere(team):
    done = services.plan_visit(
        team.a,
        team.case,
        planned_start=at(10),
        workers=[team.a],
        kind=Visit.Kind.ACCOMPANIMENT,
        destination=Visit.Destination.HOSPITAL,
    )
    services.start_visit(team.a, done, now=at(10))
    services.complete_visit(team.a, done, outcome="met_person", minutes=45, notes=NOTE)
    services.plan_visit(team.a, team.case, planned_start=at(10, day=11), workers=[team.a])

    contacts = Contact.objects.filter(case=team.case)
    assert contacts.count() == 1
    assert contacts.get().channel == Channel.ACCOMPANIMENT
    counts = selectors.visit_counts(start=datetime.date(2024, 6, 1), end=datetime.date(2024, 6, 30))
    assert counts == {Visit.Kind.ACCOMPANIMENT: 1}
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM outreach_visit")
        visits = repr(cursor.fetchall())
        cursor.execute("SELECT * FROM outreach_historicalvisit")
        history = repr(cursor.fetchall())
    assert "canary-visit-note" not in visits + history
    assert Visit.objects.get(pk=done.pk).notes == NOTE


def test_a_visit_for_a_case_the_worker_may_not_see_is_refused(team):
    other = team.world.user(Role.OUTREACH_WORKER, organisation=team.world.other)
    with pytest.raises(PermissionDenied):
        services.plan_visit(other, team.case, planned_start=at(9), workers=[other])
    with pytest.raises(ValidationError, match="2人まで"):
        services.plan_visit(
            team.a, team.case, planned_start=at(9), workers=[team.a, team.b, team.supervisor]
        )
    assert Visit.objects.count() == 0


def test_a_visit_entered_afterwards_is_done_at_its_own_time_and_counts_like_any_other(team):
    visit = services.record_visit(
        team.a,
        team.case,
        occurred_at=at(14, day=20),
        minutes=50,
        outcome="family_only",
        kind=Visit.Kind.HOME_VISIT,
    )
    assert visit.status == Visit.Status.DONE
    assert visit.contact.occurred_at == at(14, day=20)
    assert visit.contact.channel == Channel.HOME_VISIT

    # Before the case was opened, or tomorrow: refused, and nothing written.
    with pytest.raises(ValidationError, match="受付日"):
        services.record_visit(
            team.a,
            team.case,
            occurred_at=at(9, day=1) - datetime.timedelta(days=70),
            minutes=30,
            outcome="met_person",
        )
    tomorrow = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=2)
    with pytest.raises(ValidationError, match="未来"):
        services.record_visit(
            team.a, team.case, occurred_at=tomorrow, minutes=30, outcome="met_person"
        )
    assert Visit.objects.count() == 1
    assert Contact.objects.filter(case=team.case).count() == 1
