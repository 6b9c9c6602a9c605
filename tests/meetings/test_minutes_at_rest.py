"""Decisions and actions are ciphertext at rest; actions reach the dashboard by case code."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from meetings import services
from tests.meetings.helpers import case, meeting

pytestmark = pytest.mark.django_db


def test_decisions_and_actions_are_ciphertext_at_rest_and_actions_reach_the_dashboard(
    client, world
):
    subject = case(world, opened=datetime.date(2023, 1, 1))
    this = meeting(world, timezone.localdate())
    item = services.add_to_agenda(world.supervisor, this, case=subject)
    services.record_minutes(world.supervisor, item, decisions="canary-decision 方針")
    services.add_action(
        world.supervisor,
        item,
        description="canary-action 電話",
        assignee=world.counsellor,
        due_on=timezone.localdate() - datetime.timedelta(days=1),
    )
    with connection.cursor() as cursor:
        for table in (
            "meetings_agendaitem",
            "meetings_historicalagendaitem",
            "meetings_actionitem",
        ):
            cursor.execute(f"SELECT * FROM {table}")
            assert "canary-" not in repr(cursor.fetchall()), table
    # The dashboard lists the action by case code, linking to the minutes page, where its
    # text is read (and audited); the text itself is not on the dashboard.
    minutes = reverse("meetings:minutes", kwargs={"pk": item.pk})
    client.force_login(world.counsellor)
    dashboard = client.get("/").content.decode()
    assert subject.code in dashboard and minutes in dashboard
    assert "canary-action" not in dashboard
    assert "canary-action 電話" in client.get(minutes).content.decode()
    client.force_login(world.supervisor)
    dashboard = client.get("/").content.decode()
    assert "期限を過ぎた対応事項" in dashboard and subject.code in dashboard
