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
import hashlib
import io
from collections.abc import Callable, Iterator
from typing import Any

from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from . import columns, xlsx
from .sheets import (
    HEADER_CHARS,
    HEADER_SEARCH_ROWS,
    Column,
    Formula,
    Grid,
    Limits,
    Reading,
    Sheet,
    UnreadableFile,
    normalise_header,
    too_large,
    too_many_rows,
)

_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls
_CSV_ENCODINGS = ("utf-8-sig", "cp932")


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read(data: bytes, kind: str, limits: Limits | None = None) -> Sheet:
    """The file's header and rows, read within the limits (by default the IMPORT_*
    settings); raises UnreadableFile with a message. Read once per file: the screens keep
    the result with the upload, the command holds it for its run."""
    return read_sheet(data, columns.header_matcher(kind), limits)


def read_sheet(data: bytes, is_known: Callable[[str], bool], limits: Limits | None = None) -> Sheet:
    """The header and data rows of the file; `is_known` tells a known header text."""
    limits = limits or Limits.from_settings()
    if len(data) > limits.bytes:
        raise UnreadableFile(too_large(limits.bytes))
    if not data.strip():
        raise UnreadableFile(_("ファイルが空です。"))
    if data.startswith(_XLSX_MAGIC):
        grid, fmt = xlsx.grid(data, Reading(limits)), "xlsx"
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


# --- CSV ----------------------------------------------------------------------------------------


def _csv_grid(data: bytes, limits: Limits) -> Grid:
    if b"\x00" in data:
        raise _not_a_spreadsheet()
    for encoding in _CSV_ENCODINGS:
        try:
            return _csv_records(data, encoding, Reading(limits))
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(
        _(
            "文字コードを判別できません。UTF-8 または Shift_JIS の CSV か、"
            "Excel ファイル（.xlsx）を選んでください。"
        )
    )


def _csv_records(data: bytes, encoding: str, reading: Reading) -> Grid:
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
    return Grid(rows)


def _not_a_spreadsheet() -> UnreadableFile:
    return UnreadableFile(_("表計算ファイル（.xlsx または CSV）ではありません。"))


# --- the header and the columns ------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None or isinstance(value, Formula):
        return ""
    return str(value).strip()


def _sheet(fmt: str, grid: Grid, is_known: Callable[[str], bool], limits: Limits) -> Sheet:
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
        raise too_many_rows(limits)
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
