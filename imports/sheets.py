"""A spreadsheet as an import reads it: its columns and numbered rows (`Sheet`, kept
between the steps as JSON), the limits a file is read within (`Limits`, counted by
`Reading` while the file is read) and the refusal of a file (`UnreadableFile`) with its
messages. The reading itself: `imports.reading` (CSV, the header) and `imports.xlsx`."""

from __future__ import annotations

import datetime
import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

# The header is looked for in this many rows from the top.
HEADER_SEARCH_ROWS = 10
# A header text is cut to this many characters (it labels a column on the mapping page and
# keys the saved mapping).
HEADER_CHARS = 50
MEGABYTE = 1024 * 1024
_IGNORED_IN_HEADERS = str.maketrans("", "", " \u3000・/／-‐ー_:：()（）[]［］【】「」.．#＃")


class UnreadableFile(Exception):
    """The file is not a spreadsheet this import can read; the message says why."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class Formula:
    """A formula cell: its computed value is not in the file, so it cannot be imported."""

    __slots__ = ()

    def __str__(self) -> str:
        return ""


FORMULA = Formula()


@dataclass(frozen=True)
class Limits:
    """How much of a file is read before it is refused (defaults as config/settings.py)."""

    bytes: int = 10 * MEGABYTE
    rows: int = 20_000
    columns: int = 100
    unpacked: int = 50 * MEGABYTE
    ratio: int = 100
    part: int = 2 * MEGABYTE

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            bytes=settings.IMPORT_MAX_BYTES,
            rows=settings.IMPORT_MAX_ROWS,
            columns=settings.IMPORT_MAX_COLUMNS,
            unpacked=settings.IMPORT_MAX_UNPACKED_MB * MEGABYTE,
            ratio=settings.IMPORT_MAX_RATIO,
            part=settings.IMPORT_MAX_PART_MB * MEGABYTE,
        )

    @property
    def last_row(self) -> int:
        """The last row number a file within the limits can use: a header within the
        search rows (two rows at most), then the data rows."""
        return HEADER_SEARCH_ROWS + 1 + self.rows

    @property
    def text(self) -> int:
        return self.bytes

    @property
    def cells(self) -> int:
        return self.last_row * self.columns


@dataclass(frozen=True)
class Column:
    index: int
    header: str  # as the sheet names it (cut to HEADER_CHARS); unique within the sheet
    letter: str  # the spreadsheet's column letter
    candidates: tuple[str, ...] = ()  # normalised texts to match against known headers


@dataclass
class Sheet:
    format: str  # "xlsx" or "csv"
    columns: list[Column]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)  # (row number, cells)

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self.columns]

    def to_json(self) -> str:
        """The sheet as kept between the steps of an import (types of cells preserved)."""
        return json.dumps(
            {
                "format": self.format,
                "columns": [
                    [column.index, column.header, column.letter, list(column.candidates)]
                    for column in self.columns
                ],
                "rows": self.rows,
            },
            default=_cell_to_json,
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> Sheet:
        data = json.loads(text, object_hook=_cell_from_json)
        return cls(
            data["format"],
            [Column(i, h, letter, tuple(c)) for i, h, letter, c in data["columns"]],
            [(number, cells) for number, cells in data["rows"]],
        )


def _cell_to_json(value: Any) -> dict[str, Any]:
    if isinstance(value, Formula):
        return {"f": 1}
    if isinstance(value, datetime.datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"d": value.isoformat()}
    if isinstance(value, datetime.time):
        return {"t": value.isoformat()}
    raise TypeError(f"a cell cannot hold {type(value).__name__}")


_FROM_JSON: dict[str, Callable[[Any], Any]] = {
    "f": lambda _value: FORMULA,
    "dt": datetime.datetime.fromisoformat,
    "d": datetime.date.fromisoformat,
    "t": datetime.time.fromisoformat,
}


def _cell_from_json(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        ((key, value),) = obj.items()
        if key in _FROM_JSON:
            return _FROM_JSON[key](value)
    return obj


def normalise_header(text: str) -> str:
    """NFKC, lower case, no spaces or punctuation: 「時間（分）」 == "時間(分)" == "時間分"."""
    return unicodedata.normalize("NFKC", text).lower().translate(_IGNORED_IN_HEADERS)


# --- messages -----------------------------------------------------------------------------------


def too_large(limit: int) -> str:
    return _("ファイルが大きすぎます（上限 %(mb)s MB）。ファイルを分けて取り込んでください。") % {
        "mb": f"{limit / MEGABYTE:.0f}"
    }


def too_many_rows(limits: Limits) -> UnreadableFile:
    return UnreadableFile(
        _("行数が多すぎます（上限 %(max)s 行）。ファイルを分けて取り込んでください。")
        % {"max": f"{limits.rows:,}"}
    )


def too_many_columns(limits: Limits) -> UnreadableFile:
    return UnreadableFile(
        _("列が多すぎます（上限 %(max)s 列）。取り込む列だけを残したファイルにしてください。")
        % {"max": f"{limits.columns:,}"}
    )


def too_much_text(limits: Limits) -> UnreadableFile:
    return UnreadableFile(
        _(
            "セルの文字数の合計が多すぎます（上限 %(max)s 文字）。"
            "ファイルを分けて取り込んでください。"
        )
        % {"max": f"{limits.text:,}"}
    )


def too_many_merges(limits: Limits) -> UnreadableFile:
    return UnreadableFile(
        _(
            "結合されたセルが多すぎます（上限 %(ranges)s 範囲・合計 %(cells)s セル）。"
            "結合を解除してから取り込んでください。"
        )
        % {"ranges": f"{limits.last_row:,}", "cells": f"{limits.cells:,}"}
    )


# --- counting while reading ---------------------------------------------------------------------


@dataclass
class Grid:
    rows: list[tuple[int, list[Any]]]
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # r1, c1, r2, c2


class Reading:
    """The limits, counted while a file is read."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.rows = 0
        self.characters = 0
        self.ranges = 0
        self.merged_cells = 0

    def row(self, number: int) -> None:
        self.rows += 1
        if self.rows > self.limits.last_row:
            raise too_many_rows(self.limits)
        self.within(number, 1)

    def within(self, row: int, column: int) -> None:
        if row > self.limits.last_row:
            raise too_many_rows(self.limits)
        if column > self.limits.columns:
            raise too_many_columns(self.limits)

    def text(self, value: Any) -> None:
        if isinstance(value, str):
            self.characters += len(value)
            if self.characters > self.limits.text:
                raise too_much_text(self.limits)

    def merge(self, r1: int, c1: int, r2: int, c2: int) -> None:
        self.within(r2, c2)
        self.ranges += 1
        self.merged_cells += (r2 - r1 + 1) * (c2 - c1 + 1)
        if self.ranges > self.limits.last_row or self.merged_cells > self.limits.cells:
            raise too_many_merges(self.limits)
