"""What meetings count in the figures: distinct cases (実) against agenda items (延べ),
municipalities holding case conferences, network attendance by organisation type."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from meetings import selectors, services
from meetings.models import Meeting
from tests.meetings.helpers import at, case, meeting

pytestmark = pytest.mark.django_db


def test_one_case_at_three_mdt_meetings_is_one_distinct_case_and_three_items(world):
    subject = case(world, opened=datetime.date(2023, 1, 1))
    for month in (4, 5, 6):
        item = services.add_to_agenda(
            world.supervisor, meeting(world, datetime.date(2024, month, 10)), case=subject
        )
        services.record_minutes(world.supervisor, item, decisions="継続")
    result = selectors.counts(start=datetime.date(2024, 4, 1), end=datetime.date(2025, 3, 31))
    assert result["mdt_cases_distinct"] == 1
    assert result["mdt_agenda_items"] == 3
    assert result["meetings_by_kind"] == {"mdt_monthly": 3}


def test_municipalities_holding_case_conferences_are_counted_once_each(world):
    town = world.town
    for day in (5, 20):
        Meeting.objects.create(
            kind=Meeting.Kind.CASE_CONFERENCE,
            host=town,
            status=Meeting.Status.HELD,
            held_at=at(datetime.date(2024, 6, day)),
            created_by=world.supervisor,
        )
    result = selectors.counts(start=datetime.date(2024, 4, 1), end=datetime.date(2025, 3, 31))
    assert result["municipalities_with_case_conference"] == 1


def test_network_attendance_is_counted_by_organisation_type_and_bad_counts_are_refused(
    client, world
):
    network = services.plan_meeting(
        world.supervisor,
        kind=Meeting.Kind.NETWORK,
        held_at=at(datetime.date(2024, 7, 1)),
        legal_basis="support_meeting",
    )
    client.force_login(world.supervisor)
    url = reverse("meetings:external_add", kwargs={"pk": network.pk})
    client.post(url, {"organisation_type": "medical", "profession": "精神科医", "count": "3"})
    client.post(url, {"organisation_type": "medical", "profession": "看護師", "count": "2"})
    client.post(url, {"organisation_type": "npo", "profession": "", "count": "-1"})
    Meeting.objects.filter(pk=network.pk).update(status=Meeting.Status.HELD)
    result = selectors.counts(start=datetime.date(2024, 4, 1), end=datetime.date(2025, 3, 31))
    assert result["network_attendance_by_type"] == {"medical": 5}
