"""Reading an uploaded XLSX or CSV file into a header and numbered rows.

The kind of file is told by its bytes, not its name. CSV may be UTF-8 (with or without a
BOM) or Shift_JIS (CP932, as Excel saves it in Japan). In XLSX the value of a merged range
applies to every cell of the range, and the header row is the row among the first few
whose cells name the most known columns; a title above it is skipped and a parent cell
merged over two sub-headers gives a two-row header ("相談者／区分"). Row numbers are the
ones the spreadsheet shows (the Excel row; for CSV the record, as Excel numbers it).
"""

from __future__ import annotations

import csv
import datetime
import io
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

# The header is looked for in this many rows from the top.
HEADER_SEARCH_ROWS = 10
# Beyond this many data rows a file is refused (10,000 rows import in a few seconds).
MAX_ROWS = 20_000
# An XLSX is a zip: refuse one whose contents would unpack to more than this.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024

_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls
_CSV_ENCODINGS = ("utf-8-sig", "cp932")
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
class Column:
    index: int
    header: str  # as the sheet names it; unique within the sheet
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


def normalise_header(text: str) -> str:
    """NFKC, lower case, no spaces or punctuation: 「時間（分）」 == "時間(分)" == "時間分"."""
    return unicodedata.normalize("NFKC", text).lower().translate(_IGNORED_IN_HEADERS)


def read_sheet(data: bytes, is_known: Callable[[str], bool], max_rows: int = MAX_ROWS) -> Sheet:
    """The header and data rows of the file; `is_known` tells a known header text."""
    if not data.strip():
        raise UnreadableFile(_("ファイルが空です。"))
    if data.startswith(_XLSX_MAGIC):
        grid, merged, fmt = _xlsx_grid(data, max_rows), True, "xlsx"
    elif data.startswith(_OLE_MAGIC):
        raise UnreadableFile(
            _(
                "古い形式（.xls）のファイルは読めません。"
                "Excel で .xlsx か CSV に保存し直してください。"
            )
        )
    else:
        grid, merged, fmt = _csv_grid(data, max_rows), False, "csv"
    return _sheet(fmt, grid, is_known, grid.merged if merged else [], max_rows)


@dataclass
class _Grid:
    rows: list[tuple[int, list[Any]]]
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # r1, c1, r2, c2


def _xlsx_grid(data: bytes, max_rows: int) -> _Grid:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise UnreadableFile(_("ファイルの内容が大きすぎます。"))
        # openpyxl raises many kinds of error on a damaged or foreign zip; all mean the same.
        workbook = load_workbook(io.BytesIO(data), data_only=False, rich_text=False)
    except UnreadableFile:
        raise
    except Exception:
        raise UnreadableFile(
            _("Excel ファイル（.xlsx）として読めません。ファイルが壊れていないか確認してください。")
        ) from None
    sheet = workbook.worksheets[0] if workbook.worksheets else None
    if sheet is None:
        raise UnreadableFile(_("ワークシートがありません。"))
    if sheet.max_row > max_rows + HEADER_SEARCH_ROWS + 1:
        raise _too_many_rows(max_rows)
    merged = [(r.min_row, r.min_col, r.max_row, r.max_col) for r in sheet.merged_cells.ranges]
    rows: dict[int, list[Any]] = {}
    for cells in sheet.iter_rows():
        values = [_xlsx_value(cell) for cell in cells]
        if any(v not in (None, "") for v in values):
            rows[cells[0].row] = values
    for r1, c1, r2, c2 in merged:
        top_left = rows.get(r1, [])
        value = top_left[c1 - 1] if c1 - 1 < len(top_left) else None
        for r in range(r1, r2 + 1):
            row = rows.setdefault(r, [])
            if len(row) < c2:
                row.extend([None] * (c2 - len(row)))
            for c in range(c1, c2 + 1):
                row[c - 1] = value
    return _Grid(sorted(rows.items()), merged)


def _xlsx_value(cell: Any) -> Any:
    if cell.data_type == "f" or not isinstance(
        cell.value, str | int | float | datetime.date | datetime.time | type(None)
    ):
        return FORMULA  # formulas (also array and table formulas, read as objects)
    return cell.value


def _csv_grid(data: bytes, max_rows: int) -> _Grid:
    if b"\x00" in data:
        raise _not_a_spreadsheet()
    text = _decode(data)
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    rows: list[tuple[int, list[Any]]] = []
    try:
        for number, record in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
            if any(cell.strip() for cell in record):
                rows.append((number, record))
                if len(rows) > max_rows + HEADER_SEARCH_ROWS:
                    raise _too_many_rows(max_rows)
    except csv.Error:
        raise _not_a_spreadsheet() from None
    return _Grid(rows)


def _decode(data: bytes) -> str:
    for encoding in _CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(
        _(
            "文字コードを判別できません。UTF-8 または Shift_JIS の CSV か、"
            "Excel ファイル（.xlsx）を選んでください。"
        )
    )


def _not_a_spreadsheet() -> UnreadableFile:
    return UnreadableFile(_("表計算ファイル（.xlsx または CSV）ではありません。"))


def _too_many_rows(max_rows: int) -> UnreadableFile:
    return UnreadableFile(
        _("行数が多すぎます（上限 %(max)s 行）。ファイルを分けて取り込んでください。")
        % {"max": f"{max_rows:,}"}
    )


def _text(value: Any) -> str:
    if value is None or isinstance(value, Formula):
        return ""
    return str(value).strip()


def _sheet(
    fmt: str,
    grid: _Grid,
    is_known: Callable[[str], bool],
    merged_ranges: Iterable[tuple[int, int, int, int]],
    max_rows: int,
) -> Sheet:
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
    merged = list(merged_ranges)
    if below and below[0] == row_number + 1 and _joined(merged, row_number, below[1]):
        header_rows.append(below)
    elif (
        above
        and above[0] == row_number - 1
        and score(above[1])
        and _joined(merged, above[0], top[best][1])
    ):
        header_rows.insert(0, above)
    last_header = header_rows[-1][0]
    data_rows = [(n, cells) for n, cells in grid.rows if n > last_header]
    columns = _columns(header_rows, data_rows)
    if not data_rows:
        raise UnreadableFile(_("見出しの行だけで、取り込むデータの行がありません。"))
    if len(data_rows) > max_rows:
        raise _too_many_rows(max_rows)
    return Sheet(fmt, columns, data_rows)


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
        if header in seen:
            header = f"{header}（{letter}）"
        seen.add(header)
        candidates = tuple(
            dict.fromkeys(normalise_header(t) for t in ["".join(parts), *parts[::-1]] if t)
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
