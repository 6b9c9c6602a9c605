"""Reading the first worksheet of an XLSX file within the limits (see `imports.reading`):
openpyxl reads the package (content types, workbook, styles, which tell the date
formats); this module streams the worksheet and the shared strings itself, one element at
a time, dropping each element once it is read."""

from __future__ import annotations

import datetime
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.utils.translation import gettext as _
from openpyxl.packaging.manifest import Manifest
from openpyxl.reader.workbook import WorkbookParser
from openpyxl.styles.stylesheet import Stylesheet
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

from .sheets import (
    FORMULA,
    MEGABYTE,
    Grid,
    Limits,
    Reading,
    UnreadableFile,
    too_much_text,
)

# Members smaller than this are not held to the compression ratio: a small part that packs
# well harms no one.
RATIO_GRACE_BYTES = 100 * 1024
# XML nested deeper than this, or a cell or shared string made of more elements, is not a
# spreadsheet (a rich-text cell has a few elements per formatted run).
MAX_DEPTH = 64
MAX_UNIT_ELEMENTS = 10_000

_ROW = f"{{{SHEET_MAIN_NS}}}row"
_CELL = f"{{{SHEET_MAIN_NS}}}c"
_VALUE = f"{{{SHEET_MAIN_NS}}}v"
_FORMULA = f"{{{SHEET_MAIN_NS}}}f"
_INLINE = f"{{{SHEET_MAIN_NS}}}is"
_TEXT = f"{{{SHEET_MAIN_NS}}}t"
_RUN = f"{{{SHEET_MAIN_NS}}}r"
_MERGE = f"{{{SHEET_MAIN_NS}}}mergeCell"
_STRING_ITEM = f"{{{SHEET_MAIN_NS}}}si"


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


def grid(data: bytes, reading: Reading) -> Grid:
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


def _shared_strings(package: _Package, part: str | None, reading: Reading) -> list[str]:
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
                    raise too_much_text(limits)
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
    package: _Package, workbook: _Workbook, strings: list[str], reading: Reading
) -> Grid:
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
    return Grid(sorted(rows.items()), merged)


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
