"""Fixtures for imports: a centre with a supervisor and staff, municipalities, and real
spreadsheet files made with openpyxl and the csv module, or written by hand as a hostile
file would be (`package`)."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from types import SimpleNamespace
from typing import Any
from xml.sax.saxutils import escape

import pytest
from openpyxl import Workbook

from accounts.models import Organisation
from accounts.roles import Role
from tests.factories import make_organisation, make_user

CONTACT_HEADER = [
    "相談日",
    "相談方法",
    "相談者",
    "新規・継続",
    "対応時間",
    "ケース番号",
    "相談内容",
    "年代",
    "性別",
    "居住地",
]


@pytest.fixture
def centre(db):
    org = make_organisation(name="テストセンター")
    return SimpleNamespace(
        org=org,
        supervisor=make_user(Role.SUPERVISOR, organisation=org, username="sv"),
        counsellor=make_user(
            Role.COUNSELLOR, organisation=org, username="c1", display_name="相談 一郎"
        ),
        tsu=make_organisation(Organisation.Kind.MUNICIPALITY, name="津市"),
        ise=make_organisation(Organisation.Kind.MUNICIPALITY, name="伊勢市"),
    )


def xlsx(
    rows: Sequence[Sequence[Any]], *, merges: Sequence[str] = (), number_formats: dict | None = None
) -> bytes:
    """An XLSX file written by openpyxl: rows from A1, then merged ranges."""
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    for cells in merges:
        sheet.merge_cells(cells)
    for ref, fmt in (number_formats or {}).items():
        sheet[ref].number_format = fmt
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_file(rows: Sequence[Sequence[Any]], encoding: str = "utf-8") -> bytes:
    """A CSV file as the csv module writes it, in the given encoding (CRLF, as Excel)."""
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def contact_row(day: str = "R6.4.1", **overrides: Any) -> list[Any]:
    row = {
        "相談日": day,
        "相談方法": "電話",
        "相談者": "母",
        "新規・継続": "新規",
        "対応時間": "30分",
        "ケース番号": "",
        "相談内容": "昼夜逆転の相談",
        "年代": "20代",
        "性別": "男",
        "居住地": "津市",
    }
    row.update(overrides)
    return [row[h] for h in CONTACT_HEADER]


@pytest.fixture
def other_centre(db):
    org = make_organisation(name="別のセンター")
    return SimpleNamespace(org=org, counsellor=make_user(Role.COUNSELLOR, organisation=org))


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def package(
    rows_xml: str,
    *,
    dimension: str = "",
    merges: Iterable[str] = (),
    strings: Iterable[str] = (),
    string_items: str = "",
    parts: dict[str, str] | None = None,
) -> bytes:
    """A minimal XLSX package, written by hand as a hostile file would be, whose first
    sheet holds `rows_xml` (and the merged ranges); shared strings are `strings` as plain
    items, then `string_items` as raw XML; `parts` adds or replaces parts (e.g. styles)."""
    merged = "".join(f'<mergeCell ref="{ref}"/>' for ref in merges)
    sheet = (
        f'<worksheet xmlns="{MAIN}">'
        + (f'<dimension ref="{dimension}"/>' if dimension else "")
        + f"<sheetData>{rows_xml}</sheetData>"
        + (f"<mergeCells>{merged}</mergeCells>" if merged else "")
        + "</worksheet>"
    )
    shared = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings) + string_items
    files = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{SHEET_TYPE}.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            f'ContentType="{SHEET_TYPE}.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" '
            f'ContentType="{SHEET_TYPE}.sharedStrings+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" '
            f'Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{RELS}">'
            f'<Relationship Id="rId1" Type="{DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{DOC_RELS}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": sheet,
        "xl/sharedStrings.xml": f'<sst xmlns="{MAIN}">{shared}</sst>',
        **(parts or {}),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in files.items():
            archive.writestr(name, text.encode())
    return out.getvalue()


def text_cell(value: str, ref: str = "") -> str:
    at = f' r="{ref}"' if ref else ""
    return f'<c{at} t="inlineStr"><is><t>{escape(value)}</t></is></c>'


def row_xml(cells: Iterable[str], number: int | None = None) -> str:
    at = f' r="{number}"' if number else ""
    return f"<row{at}>{''.join(cells)}</row>"
