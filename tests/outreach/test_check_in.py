"""The safety check-in of a visit: overdue with a frozen clock, either worker checks in, the
overdue command."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.utils import timezone

from accounts.roles import Role
from audit.models import Event
from outreach import selectors, services
from tests.outreach.helpers import at

pytestmark = pytest.mark.django_db


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
    outsider = team.world.user(Role.OUTREACH_WORKER)
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


def test_a_supervisors_dashboard_lists_the_overdue_visits_their_organisation_sent_out(client, team):
    visit = services.plan_visit(team.a, team.case, planned_start=at(9), workers=[team.a])
    services.start_visit(team.a, visit, now=timezone.now() - datetime.timedelta(hours=5))
    detail = f'href="/outreach/visits/{visit.pk}/"'

    client.force_login(team.supervisor)
    page = client.get("/").content.decode()
    assert "帰着連絡の遅れ" in page and detail in page

    client.force_login(team.world.other_supervisor)  # another centre's supervisor
    page = client.get("/").content.decode()
    assert "帰着連絡の遅れ" in page and detail not in page
