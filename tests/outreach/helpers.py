"""Helpers of the outreach tests: local times, a programme with a session."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

from django.utils import timezone

from accounts.models import Organisation
from outreach import services
from outreach.models import Programme, Session

NOTE = "canary-visit-note 玄関で話した"


def at(hour: int, minute: int = 0, day: int = 10) -> datetime.datetime:
    return datetime.datetime(2024, 6, day, hour, minute, tzinfo=timezone.get_current_timezone())


def programme_with_session(team: SimpleNamespace, host: Organisation) -> tuple[Programme, Session]:
    programme = Programme.objects.create(
        kind=Programme.Kind.IBASHO, name="居場所", organiser=team.centre, host_municipality=host
    )
    return programme, services.add_session(
        team.supervisor, programme, held_on=datetime.date(2024, 6, 1)
    )
