"""Reporting periods: fiscal years (April–March), "as of" cut-offs and arbitrary ranges.

Every report is drawn for a `Period`: a fiscal year, a fiscal year up to an "as of" date
(12月末現在), or any inclusive range of days. Days are days in the project's time zone
(Asia/Tokyo): a contact at 23:30 on 31 March in Tokyo belongs to the fiscal year ending
that day even though it is 14:30 UTC.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from casework.periods import era_label, fiscal_year, fiscal_year_bounds

__all__ = ["Period", "era_label", "fiscal_year", "fiscal_year_bounds", "months_of_fiscal_year"]


def months_of_fiscal_year(year: int) -> list[datetime.date]:
    """First days of the twelve months of a fiscal year, April first."""
    return [datetime.date(year + (m < 4), m, 1) for m in (*range(4, 13), 1, 2, 3)]


def local_midnight(day: datetime.date) -> datetime.datetime:
    """The aware start of `day` in the current time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


@dataclass(frozen=True, order=True)
class Period:
    """An inclusive range of local days [start, end]."""

    start: datetime.date
    end: datetime.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(_("期間の終了日が開始日より前です。"))

    @classmethod
    def fiscal(cls, year: int, as_of: datetime.date | None = None) -> Period:
        """Fiscal year `year`, cut at `as_of` when it falls inside the year."""
        first, last = fiscal_year_bounds(year)
        if as_of is not None:
            if as_of < first:
                raise ValueError(_("基準日が年度の開始前です。"))
            last = min(last, as_of)
        return cls(first, last)

    @property
    def fiscal_year(self) -> int:
        """The fiscal year the period starts in."""
        return fiscal_year(self.start)

    @property
    def is_whole_fiscal_year(self) -> bool:
        return (self.start, self.end) == fiscal_year_bounds(self.fiscal_year)

    @property
    def is_fiscal(self) -> bool:
        """A fiscal year, whole or cut at an as-of date."""
        return (
            self.start == fiscal_year_bounds(self.fiscal_year)[0]
            and self.end <= (fiscal_year_bounds(self.fiscal_year)[1])
        )

    @property
    def start_at(self) -> datetime.datetime:
        """Aware lower bound (inclusive) for timestamp columns."""
        return local_midnight(self.start)

    @property
    def end_before(self) -> datetime.datetime:
        """Aware upper bound (exclusive) for timestamp columns: the midnight after `end`."""
        return local_midnight(self.end + datetime.timedelta(days=1))

    def label(self) -> str:
        """令和6年度 / 令和6年度（12月31日現在） / 2024-05-01～2024-06-30."""
        if self.is_whole_fiscal_year:
            return f"{era_label(self.fiscal_year)}（{self.fiscal_year}）"
        if self.is_fiscal:
            return _("%(year)s（%(month)d月%(day)d日現在）") % {
                "year": era_label(self.fiscal_year),
                "month": self.end.month,
                "day": self.end.day,
            }
        return f"{self.start:%Y-%m-%d}～{self.end:%Y-%m-%d}"

    def months(self) -> list[datetime.date]:
        """First days of the months the period touches, in order."""
        months, day = [], self.start.replace(day=1)
        while day <= self.end:
            months.append(day)
            day = (day + datetime.timedelta(days=32)).replace(day=1)
        return months

    def shifted(self, years: int) -> Period:
        """The same span `years` fiscal years earlier or later (29 February → 28)."""

        def move(day: datetime.date) -> datetime.date:
            try:
                return day.replace(year=day.year + years)
            except ValueError:
                return day.replace(year=day.year + years, day=28)

        return Period(move(self.start), move(self.end))
