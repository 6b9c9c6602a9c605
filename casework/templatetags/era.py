"""Dates in the Japanese era (和暦) for printed documents: {{ day|era_date }}."""

from __future__ import annotations

import datetime

from django import template
from django.utils import timezone

from casework.periods import era_date as _era_date

register = template.Library()


def _local_day(value) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, datetime.date):
        return value
    return None


@register.filter
def overdue(value) -> bool:
    """Whether a due date (or time) has passed: before today in the local time zone."""
    day = _local_day(value)
    return day is not None and day < timezone.localdate()


@register.filter
def era_date(value) -> str:
    """令和7年5月12日 (a datetime is read in the local time zone); "" for no date."""
    day = _local_day(value)
    return "" if day is None else _era_date(day)


@register.filter
def era_datetime(value) -> str:
    """令和7年5月12日 14:00, in the local time zone; "" for no value."""
    if not isinstance(value, datetime.datetime):
        return era_date(value)
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{_era_date(local.date())} {local:%H:%M}"
