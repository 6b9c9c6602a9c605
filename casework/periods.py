"""Fiscal years (年度, April to March) and age bands, shared by casework and statistics."""

from __future__ import annotations

import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _


def fiscal_year(day: datetime.date) -> int:
    """The Western year in which the fiscal year containing `day` began."""
    return day.year if day.month >= 4 else day.year - 1


def fiscal_year_bounds(year: int) -> tuple[datetime.date, datetime.date]:
    """First and last day of a fiscal year."""
    return datetime.date(year, 4, 1), datetime.date(year + 1, 3, 31)


def era_label(year: int) -> str:
    """令和6年度 for 2024; the first year of an era is 元年."""
    era, first = ("令和", 2019) if year >= 2019 else ("平成", 1989)
    number = year - first + 1
    return f"{era}{'元' if number == 1 else number}年度"


class AgeBand(models.TextChoices):
    UNDER_20 = "u20", _("10代以下")
    TWENTIES = "20s", _("20代")
    THIRTIES = "30s", _("30代")
    FORTIES = "40s", _("40代")
    FIFTIES = "50s", _("50代")
    SIXTY_PLUS = "60p", _("60代以上")
    UNKNOWN = "unknown", _("不明")


def age_band(birth_year: int | None, on: datetime.date) -> AgeBand:
    """Band of the age reached in the calendar year of `on` (birth year is all we keep)."""
    if birth_year is None:
        return AgeBand.UNKNOWN
    age = on.year - birth_year
    if age < 20:
        return AgeBand.UNDER_20
    bands = [AgeBand.TWENTIES, AgeBand.THIRTIES, AgeBand.FORTIES, AgeBand.FIFTIES]
    return bands[(age - 20) // 10] if age < 60 else AgeBand.SIXTY_PLUS
