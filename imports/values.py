"""Turning spreadsheet cells into values: Japanese dates (era dates included), numbers
stored as text, and Japanese words for the models' choices.

Each converter takes a cell as openpyxl or the csv module gives it (text, int, float,
date, datetime, time, bool) and returns a value or raises `CellError`. Messages say what
is wrong, in Japanese, and never repeat the cell's content.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils import timezone, translation
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from openpyxl.utils.datetime import from_excel

from casework.models import MINUTES_IN_A_DAY
from casework.periods import AgeBand

from .sheets import Formula


class CellError(Exception):
    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check(value: Any) -> Any:
    if isinstance(value, Formula):
        raise CellError(_("数式のセルは取り込めません。値として貼り付けてから取り込んでください。"))
    if isinstance(value, str) and "\x00" in value:
        raise CellError(_("使用できない文字（NUL）が含まれています。"))
    return value


def normalise(value: Any) -> str:
    """NFKC, no spaces, lower case: how cell words are compared with known words."""
    text = unicodedata.normalize("NFKC", str(value)).lower()
    return "".join(ch for ch in text if not ch.isspace())


# --- text and numbers ------------------------------------------------------------------


def text(max_length: int) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        _check(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # a number typed into a text column: 30.0 reads as "30"
        if isinstance(value, datetime.datetime | datetime.date):
            value = value.isoformat()
        result = str(value).strip()
        if len(result) > max_length:
            raise CellError(_("長すぎます（%(max)s文字以内）。") % {"max": f"{max_length:,}"})
        return result

    return convert


_MINUTES = re.compile(
    r"^(?:(\d+(?:\.\d+)?)(?:時間|h|hr|hours?))?(?:(\d+(?:\.\d+)?)(?:分|m|min|mins?)?)?$"
)


def minutes(value: Any) -> int:
    """対応時間 in minutes: 30, 30.0, "30", "３０", "30分", "1時間30分"."""
    _check(value)
    if isinstance(value, bool):
        raise CellError(_("分数を数字で入力してください。"))
    if isinstance(value, int | float):
        total = float(value)
    else:
        match = _MINUTES.match(normalise(value))
        if not match or not any(match.groups()):
            raise CellError(_("分数を数字で入力してください（例：30）。"))
        hours, mins = match.groups()
        total = float(hours or 0) * 60 + float(mins or 0)
    if not total.is_integer():
        raise CellError(_("分数は整数で入力してください。"))
    if not 0 <= total <= MINUTES_IN_A_DAY:
        raise CellError(_("分数は0から1440の間で入力してください。"))
    return int(total)


_TRUE = {
    "1",
    "true",
    "yes",
    "y",
    "○",
    "〇",
    "◯",
    "●",
    "✓",
    "✔",
    "有",
    "あり",
    "有り",
    "はい",
    "該当",
}
_FALSE = {"0", "false", "no", "n", "×", "✕", "-", "無", "なし", "無し", "いいえ", "非該当"}


def flag(value: Any) -> bool:
    _check(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    word = normalise(value)
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise CellError(_("「あり」「なし」（または ○・×）で入力してください。"))


# --- dates -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Era:
    name: str
    letter: str
    first_day: datetime.date
    last_day: datetime.date | None


ERAS = (
    Era("令和", "r", datetime.date(2019, 5, 1), None),
    Era("平成", "h", datetime.date(1989, 1, 8), datetime.date(2019, 4, 30)),
    Era("昭和", "s", datetime.date(1926, 12, 25), datetime.date(1989, 1, 7)),
    Era("大正", "t", datetime.date(1912, 7, 30), datetime.date(1926, 12, 24)),
)
_ERA_BY_WORD = {word: era for era in ERAS for word in (era.name, era.letter)}
_SEP = r"\s*[年./\-]\s*"
_TIME = r"(?:(?:\s+|t)(\d{1,2})[:時](\d{1,2})(?:[:分](\d{1,2})秒?)?分?)?"
_ERA_DATE = re.compile(
    r"^(令和|平成|昭和|大正|[rhst])\s*(元|\d{1,2})" + _SEP + r"(\d{1,2})" + r"\s*[月./\-]\s*"
    r"(\d{1,2})\s*日?" + _TIME + "$"
)
_WESTERN_DATE = re.compile(
    r"^(\d{4})" + _SEP + r"(\d{1,2})" + r"\s*[月./\-]\s*" + r"(\d{1,2})\s*日?" + _TIME + "$"
)
# Excel serial numbers read as dates only in this range (1908 to 2119): a stray small
# number in a date column is an error, not a day in 1900.
_SERIAL_RANGE = (3000, 80000)


def _date_text(value: str) -> datetime.date | datetime.datetime:
    word = unicodedata.normalize("NFKC", value).strip().lower()
    if match := _ERA_DATE.match(word):
        era_word, year_text, month, day, hour, minute, second = match.groups()
        era = _ERA_BY_WORD[era_word]
        era_year = 1 if year_text == "元" else int(year_text)
        if era_year < 1:
            raise CellError(_("和暦の年が正しくありません。"))
        year = era.first_day.year + era_year - 1
    elif match := _WESTERN_DATE.match(word):
        year_text, month, day, hour, minute, second = match.groups()
        year, era = int(year_text), None
    else:
        raise CellError(_("日付として読めません（例：2024/4/1、R6.4.1、令和6年4月1日）。"))
    try:
        day_value = datetime.date(year, int(month), int(day))
    except ValueError:
        raise CellError(_("存在しない日付です。")) from None
    if era is not None and not (era.first_day <= day_value <= (era.last_day or datetime.date.max)):
        raise CellError(
            _("%(era)sの期間外の日付です。元号を確かめてください。") % {"era": era.name}
        )
    if hour is None:
        return day_value
    try:
        moment = datetime.time(int(hour), int(minute), int(second or 0))
    except ValueError:
        raise CellError(_("時刻が正しくありません。")) from None
    return datetime.datetime.combine(day_value, moment)


def date_or_datetime(value: Any) -> datetime.date | datetime.datetime:
    """A date, or a naive local date and time when the cell has one."""
    _check(value)
    if isinstance(value, datetime.datetime):
        return value if value.time() != datetime.time() else value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, bool):
        raise CellError(_("日付として読めません。"))
    if isinstance(value, int | float):
        if not _SERIAL_RANGE[0] <= value <= _SERIAL_RANGE[1]:
            raise CellError(_("日付として読めません。"))
        return date_or_datetime(from_excel(value))
    return _date_text(str(value))


def date(value: Any) -> datetime.date:
    result = date_or_datetime(value)
    return result.date() if isinstance(result, datetime.datetime) else result


def past_date(value: Any) -> datetime.date:
    result = date(value)
    if result > timezone.localdate():
        raise CellError(_("未来の日付は指定できません。"))
    return result


_CLOCK = re.compile(r"^(\d{1,2})[:時](\d{1,2})(?:[:分](\d{1,2})秒?)?分?$")


def time_of_day(value: Any) -> datetime.time:
    _check(value)
    if isinstance(value, datetime.datetime):
        return value.time()
    if isinstance(value, datetime.time):
        return value
    if isinstance(value, float) and 0 <= value < 1:  # Excel stores a time as a day fraction
        seconds = round(value * 86400)
        return datetime.time(seconds // 3600, seconds % 3600 // 60)
    match = _CLOCK.match(normalise(value))
    if match:
        try:
            return datetime.time(*(int(part or 0) for part in match.groups()))
        except ValueError:
            pass
    raise CellError(_("時刻として読めません（例：14:30）。"))


# --- choices ---------------------------------------------------------------------------


class Choice:
    """A choice field's value from its Japanese label, its stored value or a synonym.

    The old spreadsheets are in Japanese whatever language the screen is in, so labels are
    read in Japanese (built on first use, once the translations are loaded).
    """

    def __init__(
        self,
        choices: type[models.TextChoices],
        synonyms: dict[str, Iterable[str]] | None = None,
    ) -> None:
        self.choices = choices
        self.synonyms = synonyms or {}

    @cached_property
    def words(self) -> dict[str, str]:
        words: dict[str, str] = {}
        with translation.override("ja"):
            for value, label in self.choices.choices:
                words[normalise(value)] = value
                words[normalise(label)] = value
        for value, synonyms in self.synonyms.items():
            for word in synonyms:
                words[normalise(word)] = value
        return words

    def __call__(self, value: Any) -> str:
        _check(value)
        found = self.words.get(normalise(value))
        if found is None:
            labels = "・".join(str(label) for _value, label in self.choices.choices)
            raise CellError(_("選択肢にない値です（%(labels)s）。") % {"labels": labels})
        return found


class Topics:
    """Several topics in one cell, separated by 、 , / or ・."""

    def __init__(self, choice: Choice) -> None:
        self.choice = choice

    def __call__(self, value: Any) -> list[str]:
        _check(value)
        words = [w for w in re.split(r"[、,，/／・;；\n]", str(value)) if w.strip()]
        return list(dict.fromkeys(self.choice(word) for word in words))


_AGE_BAND_WORDS = Choice(AgeBand)
_AGE_BAND = re.compile(r"^(\d{1,3})(?:歳)?(?:代|歳代)(?:前半|後半|以上|以下)?$")
_AGE = re.compile(r"^(\d{1,3})歳?$")


def age_band(value: Any) -> str:
    """年代: 20代, 30歳代, 60代以上, 10代以下, 不明 — or an age in years."""
    _check(value)
    word = normalise(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        word = str(int(value)) if float(value).is_integer() else word
    if word in {"不明", "unknown", "?", "不詳"}:
        return AgeBand.UNKNOWN
    if word in _AGE_BAND_WORDS.words:
        return _AGE_BAND_WORDS.words[word]
    if (match := _AGE_BAND.match(word)) or (match := _AGE.match(word)):
        decade = int(match.group(1)) // 10 * 10
    else:
        raise CellError(_("年代として読めません（例：20代、30歳代、60代以上）。"))
    if decade < 20:
        return AgeBand.UNDER_20
    if decade >= 60:
        return AgeBand.SIXTY_PLUS
    return {20: AgeBand.TWENTIES, 30: AgeBand.THIRTIES, 40: AgeBand.FORTIES}.get(
        decade, AgeBand.FIFTIES
    )
