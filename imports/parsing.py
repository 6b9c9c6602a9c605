"""Reading an uploaded XLSX or CSV file into a header and numbered rows, within limits.

The kind of file is told by its bytes, not its name. CSV may be UTF-8 (with or without a
BOM) or Shift_JIS (CP932, as Excel saves it in Japan). In XLSX the value of a merged range
applies to every cell of the range, and the header row is the row among the first few
whose cells name the most known columns; a title above it is skipped and a parent cell
merged over two sub-headers gives a two-row header ("相談者／区分"). Row numbers are the
ones the spreadsheet shows (the Excel row; for CSV the record, as Excel numbers it).

A file is read once, when it is uploaded (the result is kept as `Sheet.to_json()`), and the
limits in config/settings.py (`IMPORT_*`) are checked while it is read, so that a hostile
file stops the reading at the first row, column, byte or character past a limit instead of
being built whole first:

- the file itself: `IMPORT_MAX_BYTES`;
- XLSX, before anything is unpacked, from the sizes the zip declares (Python's zipfile
  never unpacks more than a member declares, and checks its CRC): all members together at
  most `IMPORT_MAX_UNPACKED_MB`; each member over 100 KB at most `IMPORT_MAX_RATIO` times
  its packed size; each part that openpyxl parses whole (content types, workbook, its
  relationships, styles) at most `IMPORT_MAX_PART_MB`;
- rows: a row numbered past the header search rows plus `IMPORT_MAX_ROWS` (or more row
  elements than that) stops the reading; the data rows are then counted exactly;
- columns: a cell past column `IMPORT_MAX_COLUMNS` (in XLSX any cell element, in CSV the
  last field that holds anything), or more cells than that in one row;
- text: the cells' characters, a shared string or a merged value counted at every cell
  that shows it, at most `IMPORT_MAX_BYTES` (what a CSV file of the largest size holds);
- merged ranges: inside the row and column limits, no more ranges than rows, covering
  no more cells than rows × columns.

openpyxl's read-only mode alone does not bound the work: it builds a whole row before its
caller sees it (a row of a million empty cells took 40 s and 1.3 GB), keeps each parsed
row element until the end of the sheet, pads rows to the sheet's claimed dimension, parses
every sheet's head to size it and reads all shared strings without a limit (a million took
26 s). So openpyxl reads the package (content types, workbook, styles, which tell the date
formats) and this module streams the first worksheet and the shared strings itself, one
element at a time, dropping each element once it is read.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl.packaging.manifest import Manifest
from openpyxl.reader.workbook import WorkbookParser
from openpyxl.styles.stylesheet import Stylesheet
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, range_boundaries
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.xml.constants import (
    ARC_CONTENT_TYPES,
    ARC_STYLE,
    ARC_WORKBOOK,
    SHARED_STRINGS,
    SHEET_MAIN_NS,
    XLSM,
    XLSX,
    XLTM,
    XLTX,
)
from openpyxl.xml.functions import fromstring, iterparse

# The header is looked for in this many rows from the top.
HEADER_SEARCH_ROWS = 10
# A header text is cut to this many characters (it labels a column on the mapping page and
# keys the saved mapping).
HEADER_CHARS = 50
MEGABYTE = 1024 * 1024
# Members smaller than this are not held to the compression ratio: a small part that packs
# well harms no one.
RATIO_GRACE_BYTES = 100 * 1024
# XML nested deeper than this, or a cell or shared string made of more elements, is not a
# spreadsheet (a rich-text cell has a few elements per formatted run).
MAX_DEPTH = 64
MAX_UNIT_ELEMENTS = 10_000

_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls
_CSV_ENCODINGS = ("utf-8-sig", "cp932")
_IGNORED_IN_HEADERS = str.maketrans("", "", " \u3000・/／-‐ー_:：()（）[]［］【】「」.．#＃")

_ROW = f"{{{SHEET_MAIN_NS}}}row"
_CELL = f"{{{SHEET_MAIN_NS}}}c"
_VALUE = f"{{{SHEET_MAIN_NS}}}v"
_FORMULA = f"{{{SHEET_MAIN_NS}}}f"
_INLINE = f"{{{SHEET_MAIN_NS}}}is"
_TEXT = f"{{{SHEET_MAIN_NS}}}t"
_RUN = f"{{{SHEET_MAIN_NS}}}r"
_MERGE = f"{{{SHEET_MAIN_NS}}}mergeCell"
_STRING_ITEM = f"{{{SHEET_MAIN_NS}}}si"


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


def _too_many_rows(limits: Limits) -> UnreadableFile:
    return UnreadableFile(
        _("行数が多すぎます（上限 %(max)s 行）。ファイルを分けて取り込んでください。")
        % {"max": f"{limits.rows:,}"}
    )


def _too_many_columns(limits: Limits) -> UnreadableFile:
    return UnreadableFile(
        _("列が多すぎます（上限 %(max)s 列）。取り込む列だけを残したファイルにしてください。")
        % {"max": f"{limits.columns:,}"}
    )


def _too_much_text(limits: Limits) -> UnreadableFile:
    return UnreadableFile(
        _(
            "セルの文字数の合計が多すぎます（上限 %(max)s 文字）。"
            "ファイルを分けて取り込んでください。"
        )
        % {"max": f"{limits.text:,}"}
    )


def _too_many_merges(limits: Limits) -> UnreadableFile:
    return UnreadableFile(
        _(
            "結合されたセルが多すぎます（上限 %(ranges)s 範囲・合計 %(cells)s セル）。"
            "結合を解除してから取り込んでください。"
        )
        % {"ranges": f"{limits.last_row:,}", "cells": f"{limits.cells:,}"}
    )


def _unpacks_too_large(limits: Limits) -> UnreadableFile:
    return UnreadableFile(
        _(
            "Excel ファイルの中身を展開すると大きすぎます（上限 %(mb)s MB）。"
            "ファイルを分けて取り込んでください。"
        )
        % {"mb": f"{limits.unpacked / MEGABYTE:.0f}"}
    )


def _packed_too_tightly(limits: Limits) -> UnreadableFile:
    return UnreadableFile(
        _(
            "Excel ファイルの中身が異常に高い率で圧縮されています（上限 %(ratio)s 倍）。"
            "このファイルは読み込みません。"
        )
        % {"ratio": f"{limits.ratio:,}"}
    )


def _part_too_large(limit: int) -> UnreadableFile:
    return UnreadableFile(
        _(
            "Excel ファイルの書式などの部分が大きすぎます（上限 %(mb)s MB）。"
            "CSV に保存し直して取り込んでください。"
        )
        % {"mb": f"{limit / MEGABYTE:.0f}"}
    )


def _not_xlsx() -> UnreadableFile:
    return UnreadableFile(
        _("Excel ファイル（.xlsx）として読めません。ファイルが壊れていないか確認してください。")
    )


def _not_a_spreadsheet() -> UnreadableFile:
    return UnreadableFile(_("表計算ファイル（.xlsx または CSV）ではありません。"))


# --- reading ------------------------------------------------------------------------------------


def read_sheet(data: bytes, is_known: Callable[[str], bool], limits: Limits | None = None) -> Sheet:
    """The header and data rows of the file; `is_known` tells a known header text."""
    limits = limits or Limits.from_settings()
    if len(data) > limits.bytes:
        raise UnreadableFile(too_large(limits.bytes))
    if not data.strip():
        raise UnreadableFile(_("ファイルが空です。"))
    if data.startswith(_XLSX_MAGIC):
        grid, fmt = _xlsx_grid(data, _Reading(limits)), "xlsx"
    elif data.startswith(_OLE_MAGIC):
        raise UnreadableFile(
            _(
                "古い形式（.xls）のファイルは読めません。"
                "Excel で .xlsx か CSV に保存し直してください。"
            )
        )
    else:
        grid, fmt = _csv_grid(data, limits), "csv"
    return _sheet(fmt, grid, is_known, limits)


@dataclass
class _Grid:
    rows: list[tuple[int, list[Any]]]
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # r1, c1, r2, c2


class _Reading:
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
            raise _too_many_rows(self.limits)
        self.within(number, 1)

    def within(self, row: int, column: int) -> None:
        if row > self.limits.last_row:
            raise _too_many_rows(self.limits)
        if column > self.limits.columns:
            raise _too_many_columns(self.limits)

    def text(self, value: Any) -> None:
        if isinstance(value, str):
            self.characters += len(value)
            if self.characters > self.limits.text:
                raise _too_much_text(self.limits)

    def merge(self, r1: int, c1: int, r2: int, c2: int) -> None:
        self.within(r2, c2)
        self.ranges += 1
        self.merged_cells += (r2 - r1 + 1) * (c2 - c1 + 1)
        if self.ranges > self.limits.last_row or self.merged_cells > self.limits.cells:
            raise _too_many_merges(self.limits)


# --- XLSX ---------------------------------------------------------------------------------------


class _Package(zipfile.ZipFile):
    """An XLSX file. openpyxl parses every part it reads with `read()` whole, so each of
    those is held to the part limit; the worksheet and the shared strings are streamed
    through `open()` and count only towards the unpacked total."""

    def __init__(self, data: bytes, part_limit: int) -> None:
        super().__init__(io.BytesIO(data))
        self.part_limit = part_limit

    def read(self, name: str | zipfile.ZipInfo, pwd: bytes | None = None) -> bytes:
        info = name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name)
        if info.file_size > self.part_limit:
            raise _part_too_large(self.part_limit)
        return super().read(name, pwd)


@dataclass
class _Workbook:
    sheet: str  # the first worksheet's part
    strings: str | None  # the shared strings' part
    epoch: datetime.datetime
    date_styles: set[int]
    duration_styles: set[int]


def _xlsx_grid(data: bytes, reading: _Reading) -> _Grid:
    limits = reading.limits
    try:
        with _Package(data, limits.part) as package:
            _check_sizes(package.infolist(), limits)
            workbook = _workbook(package)
            strings = _shared_strings(package, workbook.strings, reading)
            return _worksheet(package, workbook, strings, reading)
    except UnreadableFile:
        raise
    except Exception:  # a damaged or foreign zip or XML: openpyxl and zipfile raise many kinds
        raise _not_xlsx() from None


def _check_sizes(members: list[zipfile.ZipInfo], limits: Limits) -> None:
    if sum(member.file_size for member in members) > limits.unpacked:
        raise _unpacks_too_large(limits)
    for member in members:
        if member.file_size > RATIO_GRACE_BYTES and member.file_size > limits.ratio * max(
            member.compress_size, 1
        ):
            raise _packed_too_tightly(limits)


def _workbook(package: _Package) -> _Workbook:
    manifest = Manifest.from_tree(fromstring(package.read(ARC_CONTENT_TYPES)))
    parser = WorkbookParser(package, _workbook_part(manifest), keep_links=False)
    parser.parse()
    names = set(package.namelist())
    sheet = next(
        (
            rel.target
            for _sheet, rel in parser.find_sheets()
            if "chartsheet" not in rel.Type and rel.target in names
        ),
        None,
    )
    if sheet is None:
        raise UnreadableFile(_("ワークシートがありません。"))
    strings = manifest.find(SHARED_STRINGS)
    date_styles: set[int] = set()
    duration_styles: set[int] = set()
    if ARC_STYLE in names:
        styles = Stylesheet.from_tree(fromstring(package.read(ARC_STYLE)))
        date_styles, duration_styles = styles.date_formats, styles.timedelta_formats
    return _Workbook(
        sheet=sheet,
        strings=strings.PartName[1:] if strings is not None else None,
        epoch=parser.wb.epoch,
        date_styles=date_styles,
        duration_styles=duration_styles,
    )


def _workbook_part(manifest: Manifest) -> str:
    for content_type in (XLSX, XLSM, XLTX, XLTM):
        part = manifest.find(content_type)
        if part is not None:
            return part.PartName[1:]
    if {d.ContentType for d in manifest.Default} & {XLSX, XLSM, XLTX, XLTM}:
        return ARC_WORKBOOK  # some applications declare the workbook as a default type
    raise _not_xlsx()


def _elements(source: IO[bytes], units: frozenset[str]) -> Iterator[tuple[str, Any]]:
    """The ("start" | "end", element) events of an XML part, holding in memory only the
    open elements and the unit being read: an element is dropped from its parent when it
    ends, except inside a unit (a cell, a shared string), which is dropped whole at its
    end, after the caller has read it."""
    path: list[Any] = []
    unit_at = -1  # index in `path` of the unit being read
    unit_size = 0
    for event, element in iterparse(source, events=("start", "end")):
        if event == "start":
            path.append(element)
            if len(path) > MAX_DEPTH:
                raise _not_xlsx()
            if unit_at >= 0:
                unit_size += 1
                if unit_size > MAX_UNIT_ELEMENTS:
                    raise _not_xlsx()
                continue
            if element.tag in units:
                unit_at, unit_size = len(path) - 1, 0
            yield event, element
            continue
        path.pop()
        if len(path) > unit_at >= 0:
            continue  # a part of the unit: kept until the unit ends
        unit_at = -1
        yield event, element
        if path:
            path[-1].remove(element)  # its earlier siblings are gone: it is the first child


def _shared_strings(package: _Package, part: str | None, reading: _Reading) -> list[str]:
    """The shared string table, read within the limits: no file within them needs more
    strings than cells, nor more characters than the text limit."""
    strings: list[str] = []
    if part is None or part not in package.namelist():
        return strings
    limits = reading.limits
    characters, most = 0, limits.cells
    with package.open(part) as source:
        for event, element in _elements(source, frozenset({_STRING_ITEM})):
            if event == "end" and element.tag == _STRING_ITEM:
                text = _rich_text(element).replace("x005F_", "")  # as openpyxl's reader
                characters += len(text)
                if characters > limits.text:
                    raise _too_much_text(limits)
                strings.append(text)
                if len(strings) > most:
                    raise UnreadableFile(_("ファイルの内容が大きすぎます。"))
    return strings


def _rich_text(element: Any) -> str:
    """A string item's text: its own and its formatted runs', without the phonetic guide
    (furigana), as openpyxl's `Text.content` gives it (which builds an object for every
    run first: 15 µs a string)."""
    return "".join(
        child.findtext(_TEXT, "") if child.tag == _RUN else child.text or ""
        for child in element
        if child.tag == _RUN or child.tag == _TEXT
    )


def _worksheet(
    package: _Package, workbook: _Workbook, strings: list[str], reading: _Reading
) -> _Grid:
    rows: dict[int, list[Any]] = {}
    merged: list[tuple[int, int, int, int]] = []
    number = 0
    cells: dict[int, Any] | None = None  # the row being read: {column: value}
    column = count = 0
    with package.open(workbook.sheet) as source:
        for event, element in _elements(source, frozenset({_CELL, _MERGE})):
            tag = element.tag
            if event == "start":
                if tag == _ROW:
                    number = _row_number(element.get("r"), number)
                    reading.row(number)
                    cells, column, count = {}, 0, 0
                continue
            if tag == _CELL and cells is not None:
                column = _column_number(element.get("r"), column)
                count += 1
                reading.within(number, max(column, count))
                value = _cell_value(element, strings, workbook)
                reading.text(value)
                if value is not None and value != "":
                    cells[column] = value
            elif tag == _ROW:
                if cells:
                    row = [None] * max(cells)
                    for index, value in cells.items():
                        row[index - 1] = value
                    rows[number] = row
                cells = None
            elif tag == _MERGE:
                c1, r1, c2, r2 = range_boundaries(element.get("ref", ""))
                if c1 is None and r1 is None:
                    raise _not_xlsx()
                if (r2 is not None and r1 > r2) or (c2 is not None and c1 > c2):
                    raise _not_xlsx()  # a reversed range (Excel never writes one)
                limits = reading.limits
                if r2 is None or c2 is None:  # whole columns or whole rows
                    reading.within(r2 or limits.last_row + 1, c2 or limits.columns + 1)
                reading.merge(r1, c1, r2, c2)
                merged.append((r1, c1, r2, c2))
    _apply_merges(rows, merged)
    return _Grid(sorted(rows.items()), merged)


def _row_number(attribute: str | None, previous: int) -> int:
    if attribute is None:
        return previous + 1
    number = float(attribute)  # openpyxl accepts "5.0"
    if not number.is_integer() or number < 1:
        raise _not_xlsx()
    return int(number)


def _column_number(reference: str | None, previous: int) -> int:
    if reference is None:
        return previous + 1
    letters, _row = coordinate_from_string(reference)
    return column_index_from_string(letters)


def _cell_value(element: Any, strings: list[str], workbook: _Workbook) -> Any:
    """A cell's value as openpyxl's worksheet reader gives it, formulas as FORMULA (their
    computed value is not read)."""
    if element.find(_FORMULA) is not None:
        return FORMULA
    kind = element.get("t", "n")
    if kind == "inlineStr":
        text = element.find(_INLINE)
        return None if text is None else _rich_text(text)
    raw = element.findtext(_VALUE)
    if not raw:
        return None
    if kind == "n":
        number = float(raw) if any(c in raw for c in ".eE") else int(raw)
        style = int(element.get("s") or 0)
        if style not in workbook.date_styles:
            return number
        try:
            value = from_excel(number, workbook.epoch, timedelta=style in workbook.duration_styles)
        except (OverflowError, ValueError):
            return "#VALUE!"  # as openpyxl: a date serial out of range is an error cell
        return FORMULA if isinstance(value, datetime.timedelta) else value
    if kind == "s":
        return strings[int(raw)]
    if kind == "b":
        return bool(int(raw))
    if kind == "d":
        value = from_ISO8601(raw)
        return FORMULA if isinstance(value, datetime.timedelta) else value
    return raw  # "str" (a formula's text) and "e" (an error such as #N/A)


def _apply_merges(rows: dict[int, list[Any]], merged: list[tuple[int, int, int, int]]) -> None:
    """The top-left value of each merged range to every cell it covers (within the
    limits, checked as the ranges were read)."""
    for r1, c1, r2, c2 in merged:
        top = rows.get(r1, [])
        value = top[c1 - 1] if c1 - 1 < len(top) else None
        for r in range(r1, r2 + 1):
            row = rows.get(r)
            if row is None:
                if value is None:
                    continue
                row = rows[r] = []
            if len(row) < c2:
                row.extend([None] * (c2 - len(row)))
            row[c1 - 1 : c2] = [value] * (c2 - c1 + 1)
    for number in [n for n, row in rows.items() if all(v is None for v in row)]:
        del rows[number]


# --- CSV ----------------------------------------------------------------------------------------


def _csv_grid(data: bytes, limits: Limits) -> _Grid:
    if b"\x00" in data:
        raise _not_a_spreadsheet()
    for encoding in _CSV_ENCODINGS:
        try:
            return _csv_records(data, encoding, _Reading(limits))
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(
        _(
            "文字コードを判別できません。UTF-8 または Shift_JIS の CSV か、"
            "Excel ファイル（.xlsx）を選んでください。"
        )
    )


def _csv_records(data: bytes, encoding: str, reading: _Reading) -> _Grid:
    """The records, decoded and split as they are read; UnicodeDecodeError when the bytes
    are not in `encoding`."""
    text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    try:
        dialect: Any = csv.Sniffer().sniff(text.read(4096), delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    text.seek(0)
    rows: list[tuple[int, list[Any]]] = []
    try:
        for number, record in enumerate(csv.reader(text, dialect), start=1):
            reading.row(number)
            used = len(record)
            while used and not record[used - 1].strip():
                used -= 1
            if not used:
                continue
            reading.within(number, used)
            for cell in record[:used]:
                reading.text(cell)
            rows.append((number, record[:used]))
    except csv.Error:
        raise _not_a_spreadsheet() from None
    return _Grid(rows)


# --- the header and the columns ------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None or isinstance(value, Formula):
        return ""
    return str(value).strip()


def _sheet(fmt: str, grid: _Grid, is_known: Callable[[str], bool], limits: Limits) -> Sheet:
    if not grid.rows:
        raise UnreadableFile(_("ファイルが空です。"))
    top = grid.rows[:HEADER_SEARCH_ROWS]

    def score(cells: list[Any]) -> int:
        return len({normalise_header(_text(c)) for c in cells if is_known(_text(c))})

    best = max(range(len(top)), key=lambda i: (score(top[i][1]), -i))
    header_rows = [top[best]]
    row_number = top[best][0]
    below = top[best + 1] if best + 1 < len(top) else None
    above = top[best - 1] if best > 0 else None
    if below and below[0] == row_number + 1 and _joined(grid.merged, row_number, below[1]):
        header_rows.append(below)
    elif (
        above
        and above[0] == row_number - 1
        and score(above[1])
        and _joined(grid.merged, above[0], top[best][1])
    ):
        header_rows.insert(0, above)
    last_header = header_rows[-1][0]
    data_rows = [(n, cells) for n, cells in grid.rows if n > last_header]
    if not data_rows:
        raise UnreadableFile(_("見出しの行だけで、取り込むデータの行がありません。"))
    if len(data_rows) > limits.rows:
        raise _too_many_rows(limits)
    return Sheet(fmt, _columns(header_rows, data_rows), data_rows)


def _joined(merged: list[tuple[int, int, int, int]], upper: int, lower_cells: list[Any]) -> bool:
    """Whether row `upper` and the row below it form one header: a cell merged across both
    rows, or a parent cell merged across columns that have their own sub-headers below."""
    for r1, c1, r2, c2 in merged:
        if r1 <= upper < r2:
            return True
        parent = r1 == r2 == upper and c2 > c1
        if parent and any(_text(c) for c in lower_cells[c1 - 1 : c2]):
            return True
    return False


def _columns(header_rows: list[tuple[int, list[Any]]], data_rows: list) -> list[Column]:
    width = max([len(cells) for _n, cells in header_rows] + [len(cells) for _n, cells in data_rows])
    columns: list[Column] = []
    seen: set[str] = set()
    for index in range(width):
        parts: list[str] = []
        for _n, cells in header_rows:
            text = _text(cells[index]) if index < len(cells) else ""
            if text and text not in parts:
                parts.append(text)
        has_data = any(index < len(cells) and _text(cells[index]) for _n, cells in data_rows)
        if not parts and not has_data:
            continue
        letter = get_column_letter(index + 1)
        header = "／".join(parts) or _("（%(letter)s列）") % {"letter": letter}
        if len(header) > HEADER_CHARS:
            header = header[: HEADER_CHARS - 1] + "…"
        if header in seen:
            header = f"{header}（{letter}）"
        seen.add(header)
        # A known header is a few characters: a longer text cannot name one.
        texts = ["".join(parts), *parts[::-1]]
        candidates = tuple(
            dict.fromkeys(normalise_header(t[: HEADER_CHARS * 2]) for t in texts if t)
        )
        columns.append(Column(index, header, letter, candidates))
    return columns


def iter_cells(sheet: Sheet, indexes: dict[str, int]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each data row as {target: cell value} for the mapped column indexes."""
    for number, cells in sheet.rows:
        yield (
            number,
            {t: (cells[i] if i < len(cells) else None) for t, i in indexes.items()},
        )
