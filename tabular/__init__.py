"""One table, three renderings: the page, CSV (UTF-8 with BOM) and XLSX.

A plain package below every app (it imports none of them): indicator reports and the
record exports of casework both render through it. Reports build a `Table` once; the
HTML template, `to_csv` and `to_xlsx` all render the same cells, so an export can never
disagree with the screen. A cell is a number (int or Decimal, written as a number in
XLSX), text, or None (blank).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

SUPPRESSED = "x"

Value = int | Decimal | str | None


@dataclass
class Table:
    title: str
    heading: list[str]  # lines under the title: plan, scope, period, as-of date
    columns: list[str]
    rows: list[list[Value]] = field(default_factory=list)
    total_rows: int = 0  # the last rows are totals (bold)
    notes: list[str] = field(default_factory=list)
    number_formats: dict[int, str] = field(default_factory=dict)  # column → Excel format
    links: list[str | None] = field(default_factory=list)  # per row, on the page only

    def linked_rows(self) -> list[tuple[list[Value], str | None]]:
        links = self.links + [None] * (len(self.rows) - len(self.links))
        return list(zip(self.rows, links, strict=True))

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "heading": self.heading,
            "columns": self.columns,
            "rows": [[_jsonable(v) for v in row] for row in self.rows],
            "total_rows": self.total_rows,
            "notes": self.notes,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Table:
        return cls(
            title=data["title"],
            heading=data["heading"],
            columns=data["columns"],
            rows=[[_from_json(v) for v in row] for row in data["rows"]],
            total_rows=data.get("total_rows", 0),
            notes=data.get("notes", []),
        )


def _jsonable(value: Value) -> Any:
    if isinstance(value, Decimal):
        return {"d": str(value)}
    return value


def _from_json(value: Any) -> Value:
    if isinstance(value, dict) and "d" in value:
        return Decimal(value["d"])
    return value


def display(value: Value) -> str:
    """How a cell reads on the page: thousands separators, one decimal for ratios."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return f"{int(value):,}"
        return f"{value:,.1f}"
    return str(value)


# A cell whose text starts with one of these is read as a formula by a spreadsheet (OWASP
# "CSV injection": = + - @), also in the full-width forms that Japanese Excel accepts, and
# "|" of DDE payloads; spreadsheets skip leading blanks (spaces, tabs, line breaks, the
# ideographic space U+3000, zero-width characters) before they look.
FORMULA_CHARS = frozenset("=+-@|＝＋－＠｜")
_LEADING_BLANKS = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]*")
# OWASP also names a leading tab or carriage return on its own.
_CONTROL_STARTS = ("\t", "\r", "\n")


def safe_text(text: str) -> str:
    """Text a spreadsheet will not run as a formula (CSV/formula injection): the one
    escaping function of every export. Such text gets a leading apostrophe, which shows
    that the value was altered and makes Excel keep it as text."""
    if text.startswith(_CONTROL_STARTS):
        return "'" + text
    first = text[_LEADING_BLANKS.match(text).end() :][:1]
    return "'" + text if first in FORMULA_CHARS else text


def _csv_value(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return str(int(value)) if value == value.to_integral_value() else f"{value:.1f}"
    return safe_text(str(value))


def to_csv(tables: list[Table]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens the Japanese text intact."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for i, table in enumerate(tables):
        if i:
            writer.writerow([])
        writer.writerow([safe_text(table.title)])
        for line in table.heading:
            writer.writerow([safe_text(line)])
        writer.writerow([safe_text(c) for c in table.columns])
        for row in table.rows:
            writer.writerow([_csv_value(v) for v in row])
        for note in table.notes:
            writer.writerow([safe_text(note)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")


# Characters Excel refuses in a sheet name; a title (a plan's name, a metric's label) may
# hold any of them.
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")


def sheet_name(title: str) -> str:
    """A sheet name Excel accepts: forbidden characters replaced, no leading or trailing
    apostrophe, at most 31 characters, never empty."""
    name = _SHEET_NAME_FORBIDDEN.sub("_", title).strip("'").strip()[:31]
    return name or "Sheet1"


def to_xlsx(tables: list[Table], sheet_title: str) -> bytes:
    """A workbook styled like a government table: title, heading lines (plan, as-of date),
    a shaded header, ruled cells, bold totals, number formats, notes underneath."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_name(sheet_title)
    row_number = 1
    widths: dict[int, int] = {}
    for table in tables:
        _text_cell(sheet, row_number, 1, table.title).font = Font(bold=True, size=14)
        row_number += 1
        for line in table.heading:
            _text_cell(sheet, row_number, 1, line)
            row_number += 1
        for c, name in enumerate(table.columns, start=1):
            cell = _text_cell(sheet, row_number, c, name)
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
            cell.border = BORDER
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            widths[c] = max(widths.get(c, 0), _width(name))
        header_row = row_number
        row_number += 1
        first_total = len(table.rows) - table.total_rows
        for r, row in enumerate(table.rows):
            for c, value in enumerate(row, start=1):
                _value_cell(sheet, row_number, c, value, table, total=r >= first_total)
                widths[c] = max(widths.get(c, 0), _width(display(value)))
            row_number += 1
        if tables[0] is table:
            sheet.freeze_panes = sheet.cell(header_row + 1, 1)
        for note in table.notes:
            _text_cell(sheet, row_number, 1, note).font = Font(size=9)
            row_number += 1
        row_number += 1
    for c, width in widths.items():
        sheet.column_dimensions[get_column_letter(c)].width = min(max(width + 2, 8), 60)
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.gridLines = False
    buffer = io.BytesIO()
    workbook.properties.title = tables[0].title if tables else sheet_title
    workbook.properties.creator = _("ひきこもり支援ケース管理システム")
    workbook.save(buffer)
    return buffer.getvalue()


def _value_cell(
    sheet: Any, row: int, column: int, value: Value, table: Table, *, total: bool
) -> Any:
    """A body cell: numbers as numbers in the table's format, right-aligned like "x"; text
    wrapped; totals bold and shaded."""
    if isinstance(value, str):
        cell = _text_cell(sheet, row, column, value)
    else:
        cell = sheet.cell(row, column, float(value) if isinstance(value, Decimal) else value)
    cell.border = BORDER
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        cell.number_format = table.number_formats.get(
            column - 1, "#,##0" if isinstance(value, int) else "#,##0.0"
        )
        cell.alignment = Alignment(horizontal="right")
    elif value == SUPPRESSED:
        cell.alignment = Alignment(horizontal="right")
    else:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    if total:
        cell.font = Font(bold=True)
        cell.fill = TOTAL_FILL
    return cell


def _text_cell(sheet: Any, row: int, column: int, text: str) -> Any:
    """A text cell: escaped like CSV, and typed as a string, never as a formula."""
    cell = sheet.cell(row, column, safe_text(text))
    cell.data_type = "s"
    return cell


def _width(text: str) -> int:
    """Display width: full-width characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(text))
