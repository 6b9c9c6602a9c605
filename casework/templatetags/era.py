"""Dates in the Japanese era (和暦) for printed documents: {{ day|era_date }}."""

from __future__ import annotations

import datetime

from django import template
from django.template.defaultfilters import date as date_format
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


# expects_localtime: the template engine hands these filters local times, as Django's own
# `date` filter gets them (called as functions, they would format UTC).
@register.filter(expects_localtime=True)
def record_date(value, era: bool = False) -> str:
    """A day of the case's record: 2025/05/12 on screen, 令和7年5月12日 on paper (`era`,
    the printed 相談記録票); "" for no date."""
    if era:
        return era_date(value)
    return date_format(value, "Y/m/d") if value else ""


@register.filter(expects_localtime=True)
def record_datetime(value, era: bool = False) -> str:
    """A time of the case's record: 2025/05/12 14:00 on screen, 令和7年5月12日 14:00 on
    paper (`era`); "" for no time."""
    if era:
        return era_datetime(value)
    return date_format(value, "Y/m/d H:i") if value else ""
