"""Fixtures for imports: a centre with a supervisor and staff, municipalities, and real
spreadsheet files made with openpyxl and the csv module."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

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
