"""Programme attendance: counts by participant type and residence, cross-border use, refused
figures."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from outreach import selectors, services
from outreach.models import Attendance
from tests.outreach.helpers import programme_with_session

pytestmark = pytest.mark.django_db


def test_cross_municipality_use_is_participants_living_outside_the_host(team):
    host, neighbour = team.world.town, team.world.village
    _programme, session = programme_with_session(team, host)
    services.record_attendance(
        team.supervisor,
        session,
        grid={
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
    host = team.world.town
    _programme, session = programme_with_session(team, host)
    services.record_attendance(team.supervisor, session, grid={("self", host.pk): 4})
    with pytest.raises(ValidationError, match="0以上"):
        services.record_attendance(
            team.supervisor, session, grid={("self", host.pk): 5, ("family", host.pk): -1}
        )
    assert list(Attendance.objects.values_list("count", flat=True)) == [4]

    client.force_login(team.supervisor)
    response = client.post(
        reverse("outreach:attendance", kwargs={"pk": session.pk}),
        {f"n-self-{host.pk}": "7", f"n-family-{host.pk}": "-2"},
    )
    assert response.status_code == 200 and "0以上" in response.content.decode()
    assert list(Attendance.objects.values_list("count", flat=True)) == [4]
