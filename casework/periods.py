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


# The first day of each era since 明治 6 (the solar calendar), newest first.
ERAS = (
    ("令和", datetime.date(2019, 5, 1)),
    ("平成", datetime.date(1989, 1, 8)),
    ("昭和", datetime.date(1926, 12, 25)),
    ("大正", datetime.date(1912, 7, 30)),
    ("明治", datetime.date(1873, 1, 1)),
)


def era_date(day: datetime.date) -> str:
    """令和7年5月12日 for 2025-05-12; the first year of an era is 元年 (令和元年5月1日), and
    the day the era changed decides (2019-04-30 is 平成31年4月30日). Western before 1873."""
    for era, first in ERAS:
        if day >= first:
            number = day.year - first.year + 1
            year = "元" if number == 1 else str(number)
            return f"{era}{year}年{day.month}月{day.day}日"
    return f"{day.year}年{day.month}月{day.day}日"


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
