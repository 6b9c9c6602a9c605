"""Visits with their safety check-in, and programme attendance with cross-border use."""

from __future__ import annotations

import datetime
import io
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import Event
from casework import services as casework
from casework.models import Channel, Contact
from outreach import selectors, services
from outreach.models import Attendance, Programme, Visit
from tests.factories import make_organisation, make_user

pytestmark = pytest.mark.django_db
NOTE = "canary-visit-note 玄関で話した"


@pytest.fixture
def team(db):
    centre = make_organisation(name="センター")
    a = make_user(Role.OUTREACH_WORKER, organisation=centre, username="a")
    b = make_user(Role.OUTREACH_WORKER, organisation=centre, username="b")
    supervisor = make_user(Role.SUPERVISOR, organisation=centre, username="sv")
    case = casework.open_case(a, identity={"name": "訪問 対象"})
    return SimpleNamespace(centre=centre, a=a, b=b, supervisor=supervisor, case=case)


def at(hour, minute=0, day=10):
    return datetime.datetime(2024, 6, day, hour, minute, tzinfo=timezone.get_current_timezone())


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


def test_overdue_check_in_with_a_frozen_clock_and_two_workers(team):
    visit = services.plan_visit(team.a, team.case, planned_start=at(9), workers=[team.a, team.b])
    services.start_visit(team.a, visit, now=at(9))
    due = at(9) + datetime.timedelta(minutes=services.checkin_minutes())
    assert list(selectors.overdue_visits(now=due - datetime.timedelta(minutes=1))) == []
    assert list(selectors.overdue_visits(now=due + datetime.timedelta(minutes=1))) == [visit]

    reported = services.report_overdue(now=due + datetime.timedelta(minutes=1))
    services.report_overdue(now=due + datetime.timedelta(minutes=30))
    assert reported == [visit]
    assert Event.objects.filter(detail__checkin_overdue=True).count() == 1  # audited once

    services.check_in(team.b, visit, now=due + datetime.timedelta(minutes=40))  # the second worker
    assert list(selectors.overdue_visits(now=due + datetime.timedelta(hours=5))) == []
    outsider = make_user(Role.OUTREACH_WORKER, organisation=team.centre)
    other_visit = services.plan_visit(team.a, team.case, planned_start=at(9), workers=[team.a])
    services.start_visit(team.a, other_visit, now=at(9))
    with pytest.raises(PermissionDenied):
        services.check_in(outsider, other_visit)  # not a worker of this visit


def test_the_overdue_command_lists_codes_and_exits_non_zero(team):
    visit = services.plan_visit(team.a, team.case, planned_start=at(9), workers=[team.a])
    services.start_visit(team.a, visit, now=timezone.now() - datetime.timedelta(hours=5))
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("overdue_checkins", stdout=out)
    assert exited.value.code == 3
    assert team.case.code in out.getvalue() and "訪問 対象" not in out.getvalue()


def test_a_visit_for_a_case_the_worker_may_not_see_is_refused(team):
    other = make_user(Role.OUTREACH_WORKER, organisation=make_organisation())
    with pytest.raises(PermissionDenied):
        services.plan_visit(other, team.case, planned_start=at(9), workers=[other])
    with pytest.raises(ValidationError, match="2人まで"):
        services.plan_visit(
            team.a, team.case, planned_start=at(9), workers=[team.a, team.b, team.supervisor]
        )
    assert Visit.objects.count() == 0


def programme_with_session(team, host):
    programme = Programme.objects.create(
        kind=Programme.Kind.IBASHO, name="居場所", organiser=team.centre, host_municipality=host
    )
    return programme, services.add_session(
        team.supervisor, programme, held_on=datetime.date(2024, 6, 1)
    )


def test_cross_municipality_use_is_participants_living_outside_the_host(team):
    host, neighbour = make_organisation("municipality"), make_organisation("municipality")
    _programme, session = programme_with_session(team, host)
    services.record_attendance(
        team.supervisor,
        session,
        {
            ("self", host.pk): 4,
            ("self", neighbour.pk): 2,
            ("family", neighbour.pk): 3,
            ("family", None): 1,
        },
    )
    counts = selectors.attendance_counts(
        start=datetime.date(2024, 4, 1), end=datetime.date(2025, 3, 31)
    )
    assert counts["ibasho"] == {"sessions": 1, "attendance": 10, "outside": 5}
    assert counts["family_class"] == {"sessions": 0, "attendance": 0, "outside": 0}


def test_bad_attendance_is_refused_whole_and_keeps_the_previous_figures(team, client):
    host = make_organisation("municipality")
    _programme, session = programme_with_session(team, host)
    services.record_attendance(team.supervisor, session, {("self", host.pk): 4})
    with pytest.raises(ValidationError, match="0以上"):
        services.record_attendance(
            team.supervisor, session, {("self", host.pk): 5, ("family", host.pk): -1}
        )
    assert list(Attendance.objects.values_list("count", flat=True)) == [4]

    client.force_login(team.supervisor)
    response = client.post(
        reverse("outreach:attendance", kwargs={"pk": session.pk}),
        {f"n-self-{host.pk}": "7", f"n-family-{host.pk}": "-2"},
    )
    assert response.status_code == 200 and "0以上" in response.content.decode()
    assert list(Attendance.objects.values_list("count", flat=True)) == [4]


def test_a_session_in_another_organisations_programme_is_refused(team):
    theirs = Programme.objects.create(
        kind=Programme.Kind.FAMILY_CLASS, name="他組織の教室", organiser=make_organisation()
    )
    with pytest.raises(ValidationError, match="他の組織"):
        services.add_session(team.supervisor, theirs, held_on=datetime.date(2024, 6, 1))
    assert theirs.sessions.count() == 0
