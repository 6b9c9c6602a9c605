"""Helpers of the meetings tests: cases and meetings of the test world's centre, in local time."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from casework import services as casework
from casework.models import Case
from meetings import services
from meetings.models import Meeting
from tests.world import World

TZ = timezone.get_current_timezone()


CANARY_NAME = "会議 漏洩チェック"


def at(day: datetime.date, hour: int = 14) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=TZ)


def case(
    c: World, *, opened: datetime.date, last_contact: datetime.datetime | None = None, **fields
) -> Case:
    made = casework.open_case(
        c.counsellor,
        identity={"name": CANARY_NAME},
        confirm_duplicate=True,
        case_fields={"opened_on": opened, **fields},
    )
    Case.objects.filter(pk=made.pk).update(last_contact_at=last_contact)
    made.refresh_from_db()
    return made


def meeting(c: World, day: datetime.date, **kwargs: Any) -> Meeting:
    kwargs.setdefault("legal_basis", Meeting.LegalBasis.INTERNAL)
    return services.plan_meeting(
        c.supervisor,
        kind=Meeting.Kind.MDT_MONTHLY,
        held_at=at(day),
        attendees=[c.supervisor, c.mdt],
        **kwargs,
    )
