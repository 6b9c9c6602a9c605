"""Reading a file within the limits (imports/reading.py, imports/xlsx.py): what the
streaming reader gives, what it refuses, and the form an upload is kept in between the
steps."""

from __future__ import annotations

import datetime
import random

import pytest

from imports import services
from imports.sheets import FORMULA, Limits, Sheet, UnreadableFile
from tests.imports.conftest import CONTACT_HEADER, contact_row, csv_file, package, row_xml, xlsx

HEADER = row_xml(
    f'<c r="{letter}1" t="inlineStr"><is><t>{text}</t></is></c>'
    for letter, text in zip("ABC", ["相談日", "相談方法", "相談内容"], strict=True)
)


def read(data: bytes, **limits: int) -> Sheet:
    return services.read(data, "contacts", Limits(**limits))


def refused(data: bytes, **limits: int) -> str:
    with pytest.raises(UnreadableFile) as caught:
        read(data, **limits)
    return caught.value.message


def test_shared_strings_are_read_with_their_runs_and_without_the_furigana():
    items = (
        "<si><t>電話</t></si>"
        '<si><r><t>山田</t></r><r><rPr><b/></rPr><t>さん</t></r><rPh sb="0" eb="2"><t>ヤマダ</t>'
        '</rPh><phoneticPr fontId="1"/></si>'
    )
    cells = ['<c r="A2"><v>45383</v></c>', '<c t="s"><v>0</v></c>', '<c t="s"><v>1</v></c>']
    data = package(HEADER + row_xml(cells), string_items=items)

    sheet = read(data)

    assert sheet.rows == [(2, [45383, "電話", "山田さん"])]


def test_cells_keep_their_types_and_the_kept_form_gives_them_back():
    data = xlsx(
        [
            CONTACT_HEADER[:6],
            [datetime.date(2024, 4, 1), "電話", True, 30.5, "=A2", datetime.time(9, 15)],
            [datetime.datetime(2024, 4, 2, 10, 30), "来所", False, 45, None, "x"],  # noqa: DTZ001
        ],
        number_formats={"A2": "yyyy/m/d", "A3": "yyyy/m/d h:mm", "F2": "h:mm"},
    )

    sheet = read(data)
    first, second = (cells for _n, cells in sheet.rows)

    day, moment = datetime.datetime(2024, 4, 1), datetime.datetime(2024, 4, 2, 10, 30)  # noqa: DTZ001
    assert first == [day, "電話", True, 30.5, FORMULA, datetime.time(9, 15)]
    assert second[:4] == [moment, "来所", False, 45]
    kept = Sheet.from_json(sheet.to_json())
    assert kept == sheet
    assert [type(v) for v in kept.rows[0][1]] == [type(v) for v in first]


def test_a_csv_file_in_shift_jis_is_read_even_when_the_first_non_ascii_byte_comes_late():
    rows = [["date", "channel", "note"]] + [["R6.4.1", "tel", "a" * 50]] * 200
    rows.append(["R6.4.2", "電話", "来所"])
    sheet = read(csv_file(rows, "cp932"))
    assert sheet.rows[-1] == (202, ["R6.4.2", "電話", "来所"])


def test_empty_rows_and_trailing_empty_cells_do_not_count_as_data():
    data = csv_file([CONTACT_HEADER[:3], ["R6.4.1", "電話", "", "", ""], [], ["", " "]])
    sheet = read(data, columns=3)
    assert sheet.rows == [(2, ["R6.4.1", "電話"])]


def test_each_limit_names_itself_when_passed():
    contacts = xlsx([CONTACT_HEADER, contact_row(), contact_row()])
    assert "上限 1 行" in refused(contacts, rows=1)
    assert "上限 9 列" in refused(contacts, columns=9)
    assert "ファイルが大きすぎます" in refused(contacts, bytes=len(contacts) - 1)
    repeated = package(HEADER * 20_000)  # 3 MB of the same row, packed 500 times
    assert "展開すると大きすぎます（上限 1 MB）" in refused(repeated, unpacked=1024 * 1024)
    assert "上限 100 倍" in refused(repeated)
    styles = {"xl/styles.xml": "<styleSheet/>" + " " * 5000}
    assert "書式などの部分が大きすぎます" in refused(package(HEADER, parts=styles), part=4000)


def test_the_text_limit_counts_every_use_of_a_shared_string():
    rng = random.Random(1)
    text = "".join(chr(rng.randrange(0x3041, 0x3097)) for _n in range(100_000))

    def repeated(rows: int) -> bytes:  # 3 uses a row: the limit (10 MB) is 104 uses
        return package(HEADER + row_xml(['<c t="s"><v>0</v></c>'] * 3) * rows, strings=[text])

    assert len(read(repeated(34)).rows) == 34
    assert "セルの文字数の合計が多すぎます" in refused(repeated(36))


def test_merged_ranges_are_limited_in_number_and_in_the_cells_they_cover():
    limits = {"rows": 7, "columns": 3}  # rows up to 18 (the header search rows, then 7)
    body = HEADER + "".join(
        row_xml([f'<c r="A{n}" t="inlineStr"><is><t>R6.4.1</t></is></c>'], n) for n in range(2, 9)
    )
    one_a_row = package(body, merges=[f"B{n}:C{n}" for n in range(2, 9)])
    assert len(read(one_a_row, **limits).rows) == 7

    many = package(body, merges=[f"B{n}:C{n}" for n in range(2, 9)] * 3)  # 21 ranges
    assert "結合されたセルが多すぎます（上限 18 範囲・合計 54 セル）" in refused(many, **limits)
    wide = package(body, merges=["A2:C17", "A2:C17"])  # 96 cells
    assert "結合されたセルが多すぎます" in refused(wide, **limits)
    assert "行数が多すぎます" in refused(package(body, merges=["A2:A19"]), **limits)
    assert "列が多すぎます" in refused(package(body, merges=["B2:D2"]), **limits)
    assert "行数が多すぎます" in refused(package(body, merges=["B:C"]))
    reversed_ = package(body, merges=["A8:C2", "A2:C17"])  # as if it covered fewer cells
    assert "Excel ファイル（.xlsx）として読めません" in refused(reversed_, **limits)


def test_xml_nested_too_deeply_or_a_cell_of_too_many_elements_is_not_read():
    deep = package(HEADER + "<row><c>" + "<x>" * 100 + "</x>" * 100 + "</c></row>")
    assert "Excel ファイル（.xlsx）として読めません" in refused(deep)
    crowded = package(HEADER + "<row><c>" + "<x/>" * 20_000 + "</c></row>")
    assert "Excel ファイル（.xlsx）として読めません" in refused(crowded)


def test_a_header_text_is_cut_short():
    long_header = "相談内容" + "あ" * 200
    sheet = read(csv_file([["相談日", long_header], ["R6.4.1", "x"]]))
    assert len(sheet.headers[1]) <= 50 and sheet.headers[1].startswith("相談内容あ")
    assert sheet.headers[1].endswith("…")
