"""The page, the CSV and the XLSX carry the same figures."""

from __future__ import annotations

import csv
import datetime
import io
import re
from html import unescape

import openpyxl
import pytest
from django.urls import reverse

from audit.models import Action, Event
from indicators.models import ManualValue, Target
from tabular import Table, to_csv, to_xlsx

from .conftest import at


@pytest.fixture
def plan(world):
    plan = world.plan(
        "テスト計画",
        {
            "code": "1-1",
            "name": "相談件数",
            "unit": "件",
            "metric": "contacts",
            "accumulation": "cumulative",
            "cap_ratio": True,
        },
        {"code": "1-2", "name": "新規相談件数", "unit": "件", "metric": "new_consultations"},
        {"code": "1-3", "name": "=SUM(A1:A9)", "unit": "%"},
    )
    contacts, new, manual = plan.directions.get().indicators.order_by("code")
    for year in (2024, 2025):
        Target.objects.create(indicator=contacts, fiscal_year=year, value=4)
        Target.objects.create(indicator=new, fiscal_year=year, value=3)
    ManualValue.objects.create(
        indicator=manual,
        fiscal_year=2025,
        value="72.5",
        source_note="調査",
        entered_by=world.supervisor,
    )
    case = world.case()
    for month in (5, 6, 7, 8, 9):
        world.contact(case, at(2025, month, 1))
    world.contact(case, at(2024, 5, 1))
    world.case(opened_on=datetime.date(2025, 6, 1))
    return plan


def _page_rows(html: str) -> list[list[str]]:
    table = re.search(r'<table class="report".*?</table>', html, re.S).group(0)
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S):
        cells = [
            unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        if cells:
            rows.append(cells[:-1])  # the last column is the page-only link
    return rows


def _normal(value) -> str:
    """A figure as text without thousands separators; XLSX floats back to their text."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.1f}"
    text = str(value).replace(",", "")
    return text[1:] if text.startswith("'") else text


def test_page_csv_and_xlsx_show_the_same_figures(client, world, plan):
    client.force_login(world.supervisor)
    query = {"year": 2025, "as_of": "2025-12-31"}
    page = client.get(reverse("indicators:progress", args=[plan.pk]), query)
    csv_response = client.get(reverse("indicators:progress_export", args=[plan.pk, "csv"]), query)
    xlsx_response = client.get(reverse("indicators:progress_export", args=[plan.pk, "xlsx"]), query)
    assert page.status_code == csv_response.status_code == xlsx_response.status_code == 200

    page_rows = [[_normal(c) for c in row] for row in _page_rows(page.content.decode())]
    assert csv_response.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    text = csv_response.content.decode("utf-8-sig")
    csv_rows = list(csv.reader(io.StringIO(text)))
    header_at = next(i for i, row in enumerate(csv_rows) if row and row[0] == "取組方向")
    csv_body = [
        [_normal(c) for c in row]
        for row in csv_rows[header_at + 1 : header_at + 1 + len(page_rows)]
    ]

    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_response.content)).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    xlsx_header = next(i for i, row in enumerate(values) if row[0] == "取組方向")
    xlsx_body = [
        [_normal(c) for c in row[: len(page_rows[0])]]
        for row in values[xlsx_header + 1 : xlsx_header + 1 + len(page_rows)]
    ]
    assert page_rows == csv_body == xlsx_body
    # The worked figures: FY2025 up to 31 Dec: 5 contacts, 1 + 5 = 6 since FY2024;
    # target 4 (8 cumulative) → 75.0%; two cases opened, on 1 May (the contacts' case)
    # and 1 June (target 3 → 66.7%).
    by_code = {row[1]: row for row in page_rows}
    assert by_code["1-1"][7] == "5件(6件)" and by_code["1-1"][8] == "4件(8件)"
    assert by_code["1-1"][9] == "75"
    assert by_code["1-2"][7] == "2" and by_code["1-2"][9] == "66.7"
    assert by_code["1-3"][7] == "72.5"
    assert Event.objects.filter(action=Action.EXPORT).count() == 2


def test_text_that_looks_like_a_formula_is_not_a_formula_in_either_export(world, plan):
    table = Table("t", [], ["a"], rows=[["=SUM(A1:A9)"], ["+1"], ["普通"]])
    text = to_csv([table]).decode("utf-8-sig")
    assert "'=SUM(A1:A9)" in text and "'+1" in text
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx([table], "t"))).active
    cells = [c.value for c in sheet["A"] if c.value]
    assert "'=SUM(A1:A9)" in cells
    assert all(c.data_type != "f" for c in sheet["A"])


def test_xlsx_is_styled_like_a_government_table(client, world, plan):
    client.force_login(world.supervisor)
    response = client.get(
        reverse("indicators:progress_export", args=[plan.pk, "xlsx"]), {"year": 2025}
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert "テスト計画" in sheet["A1"].value and sheet["A1"].font.bold
    heading = [sheet.cell(r, 1).value for r in range(2, 5)]
    assert any("令和7年度" in line for line in heading)  # the period, with its era name
    header_row = next(r for r in range(1, 10) if sheet.cell(r, 1).value == "取組方向")
    assert sheet.cell(header_row, 1).font.bold and sheet.cell(
        header_row, 1
    ).fill.fgColor.rgb.endswith("D9E1F2")
    assert sheet.freeze_panes == f"A{header_row + 1}"


def test_bad_parameters_get_a_400_with_the_reason_and_no_export(client, world, plan):
    client.force_login(world.supervisor)
    url = reverse("indicators:progress_export", args=[plan.pk, "csv"])
    response = client.get(url, {"year": 2025, "as_of": "2030-01-01"})
    assert response.status_code == 400
    assert "基準日は選んだ年度の中の日付" in response.content.decode()
    assert client.get(url, {"year": "abc"}).status_code == 400
    assert (
        client.get(reverse("indicators:progress_export", args=[plan.pk, "pdf"])).status_code == 404
    )
    assert not Event.objects.filter(action=Action.EXPORT).exists()
    page = client.get(reverse("indicators:progress", args=[plan.pk]), {"year": 1990})
    assert page.status_code == 400
