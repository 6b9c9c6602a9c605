"""The dashboard's dates carry their year, and a follow-up past its date is marked."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from casework import services

pytestmark = pytest.mark.django_db


def test_follow_ups_show_the_year_and_the_overdue_one_is_marked(client, world):
    today = timezone.localdate()
    late, soon = today - datetime.timedelta(days=3), today + datetime.timedelta(days=2)
    for due in (late, soon):
        services.log_contact(
            world.counsellor,
            channel="phone",
            consulter="parent",
            kind="first",
            minutes=5,
            follow_up="折り返し",
            follow_up_due=due,
            age_band="unknown",
            gender="unknown",
            municipality=None,
        )
    client.force_login(world.counsellor)
    page = client.get("/").content.decode()
    items = {
        day: re.search(rf"<strong>{day:%Y/%-m/%-d}</strong>(.*?)</li>", page, re.S)
        for day in (late, soon)
    }
    assert items[late] is not None and items[soon] is not None
    assert "期限超過" in items[late].group(1)
    assert "期限超過" not in items[soon].group(1)
    # Recent contacts with their year.
    assert f"{timezone.localtime():%Y/%-m/%-d}" in page
