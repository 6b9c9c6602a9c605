"""Issue 17, finding 9: import amplification. A small hostile spreadsheet must not make the
server unpack, hold or render far more than the file itself.

Each attack uploads a file built here, as a supervisor, through the import page: a zip bomb
(a sheet that packs a thousandfold), a header row as wide as Excel allows (the review's
18.8 MB mapping page), rows far past the limit, a single row of 200,000 cells, a dimension
that claims the whole grid, a shared string repeated in every cell, and a merged range over
a million rows. Each is refused on the upload page with a message naming the limit,
nothing is kept, the page is small, and refusing it takes little memory (tracemalloc's
peak during the request). A legitimate file still goes through every step.
"""

from __future__ import annotations

import random
import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Organisation
from casework.models import Contact
from imports.models import ImportBatch, PendingUpload
from tests.factories import make_organisation
from tests.imports.conftest import (
    CONTACT_HEADER,
    contact_row,
    csv_file,
    package,
    row_xml,
    text_cell,
    xlsx,
)

pytestmark = pytest.mark.django_db

# A refused upload is the upload page with one message: a few kilobytes.
SMALL_PAGE = 64 * 1024
# Refusing any of these files needs a few megabytes of Python memory; the code before the
# fix used hundreds of megabytes for them.
SMALL_MEMORY = 24 * 1024 * 1024


def contact_rows_xml(count: int, first: int = 2) -> str:
    return "".join(
        row_xml([text_cell(str(v)) for v in contact_row(f"R6.4.{n % 28 + 1}")], first + n)
        for n in range(count)
    )


HEADER_XML = row_xml([text_cell(h) for h in CONTACT_HEADER], 1)


def upload(client, data: bytes, name: str = "相談記録.xlsx"):
    """POST the file to the upload page; returns the response and the peak of Python
    memory allocated while the server handled it."""
    file = SimpleUploadedFile(name, data)
    tracemalloc.start()
    try:
        response = client.post(reverse("imports:upload"), {"kind": "contacts", "file": file})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return response, peak


def assert_refused(response, peak: int, *messages: str) -> None:
    assert response.status_code == 200
    page = response.content.decode()
    errors = [str(e) for e in response.context["form"].errors.get("file", [])]
    for message in messages:
        assert any(message in error for error in errors), (messages, errors)
        assert message in page
    assert len(response.content) < SMALL_PAGE
    assert peak < SMALL_MEMORY, f"{peak / 2**20:.0f} MB"
    assert not PendingUpload.objects.exists()
    assert not ImportBatch.objects.exists()


@pytest.fixture
def supervisor_client(client, world):
    make_organisation(Organisation.Kind.MUNICIPALITY, name="津市")  # the sheets' residence
    client.force_login(world.supervisor)
    return client


def test_a_zip_bomb_sheet_is_refused_by_its_compression_ratio_before_it_is_unpacked(
    supervisor_client,
):
    same_row = row_xml(text_cell(str(v)) for v in contact_row())
    data = package(HEADER_XML + same_row * 19_000)
    assert len(data) < 64 * 1024  # a few kilobytes that unpack to megabytes

    response, peak = upload(supervisor_client, data)

    assert_refused(response, peak, "異常に高い率で圧縮", "上限 100 倍")


def test_a_sheet_unpacking_beyond_the_limit_is_refused_before_it_is_read(
    supervisor_client, settings
):
    settings.IMPORT_MAX_UNPACKED_MB = 1
    rng = random.Random(9)
    rows = "".join(
        row_xml([text_cell(f"{rng.getrandbits(64):x}") for _c in range(10)], n)
        for n in range(2, 4_000)
    )
    data = package(HEADER_XML + rows)  # random text: an ordinary ratio, 1.5 MB unpacked

    response, peak = upload(supervisor_client, data)

    assert_refused(response, peak, "展開すると大きすぎます", "上限 1 MB")


def test_a_header_as_wide_as_excel_allows_is_refused_naming_the_column_limit(
    supervisor_client,
):
    wide = row_xml(text_cell(f"列{n}") for n in range(16_384))
    data = package(wide + row_xml(text_cell("x") for _n in range(16_384)) * 2)

    response, peak = upload(supervisor_client, data)

    assert_refused(response, peak, "列が多すぎます", "上限 100 列")


def test_the_column_limit_is_a_setting_counted_from_the_last_cell_in_use(
    supervisor_client, settings
):
    settings.IMPORT_MAX_COLUMNS = len(CONTACT_HEADER) - 1
    data = xlsx([CONTACT_HEADER, contact_row()])

    response, peak = upload(supervisor_client, data)

    assert_refused(response, peak, "列が多すぎます", f"上限 {len(CONTACT_HEADER) - 1} 列")

    settings.IMPORT_MAX_COLUMNS = len(CONTACT_HEADER)
    response, _peak = upload(supervisor_client, data)
    assert response.status_code == 302 and PendingUpload.objects.count() == 1


def test_a_single_row_of_two_hundred_thousand_cells_is_stopped_at_the_column_limit(
    supervisor_client,
):
    rng = random.Random(3)
    cells = "".join(f'<c s="{rng.randrange(9)}"/>' for _n in range(200_000))
    data = package(HEADER_XML + f"<row>{cells}</row>")

    response, peak = upload(supervisor_client, data)

    assert_refused(response, peak, "列が多すぎます", "上限 100 列")


def test_rows_past_the_limit_stop_the_reading_at_the_first_one(supervisor_client, settings):
    settings.IMPORT_MAX_ROWS = 50
    rng = random.Random(5)
    rows = "".join(
        row_xml([text_cell(f"R6.4.{rng.randrange(1, 29)}"), f"<c><v>{n}</v></c>"], n)
        for n in range(2, 100_002)
    )
    data = package(HEADER_XML + rows)  # 100,000 rows with an ordinary compression ratio

    response, peak = upload(supervisor_client, data)

    assert_refused(response, peak, "行数が多すぎます", "上限 50 行")


def test_the_row_limit_is_a_setting(supervisor_client, settings):
    settings.IMPORT_MAX_ROWS = 3
    rows = [contact_row(f"R6.4.{n}") for n in range(1, 5)]

    response, peak = upload(supervisor_client, xlsx([CONTACT_HEADER, *rows]))
    assert_refused(response, peak, "行数が多すぎます", "上限 3 行")

    response, peak = upload(supervisor_client, csv_file([CONTACT_HEADER, *rows]), "a.csv")
    assert_refused(response, peak, "行数が多すぎます", "上限 3 行")

    response, _peak = upload(supervisor_client, xlsx([CONTACT_HEADER, *rows[:3]]))
    assert response.status_code == 302


def test_a_dimension_claiming_the_whole_grid_is_not_believed(supervisor_client):
    data = package(HEADER_XML + contact_rows_xml(2), dimension="A1:XFD1048576")

    response, peak = upload(supervisor_client, data)

    assert response.status_code == 302 and peak < SMALL_MEMORY
    mapping = supervisor_client.get(response.url)
    assert len(mapping.context["form"].fields) == len(CONTACT_HEADER)
    assert len(mapping.content) < 200 * 1024
    choices = {name: field.initial or "" for name, field in mapping.context["form"].fields.items()}
    review = supervisor_client.post(response.url, choices)
    supervisor_client.post(review.url, {})
    assert Contact.objects.count() == 2


def test_a_cell_at_the_last_column_of_a_whole_grid_dimension_is_refused(supervisor_client):
    header = HEADER_XML.replace("</row>", text_cell("x", "XFD1") + "</row>")
    data = package(header + contact_rows_xml(2), dimension="A1:XFD1048576")

    response, peak = upload(supervisor_client, data)

    assert_refused(response, peak, "列が多すぎます", "上限 100 列")


def test_a_shared_string_repeated_in_every_cell_counts_at_every_use(supervisor_client):
    rng = random.Random(7)
    long_text = "".join(chr(rng.randrange(0x3041, 0x3097)) for _n in range(30_000))
    shared_cell = '<c t="s"><v>0</v></c>'
    rows = "".join(row_xml([shared_cell] * len(CONTACT_HEADER), n) for n in range(2, 40))
    data = package(HEADER_XML + rows, strings=[long_text])

    response, peak = upload(supervisor_client, data)

    assert_refused(response, peak, "セルの文字数の合計が多すぎます", "上限 10,485,760 文字")


def test_a_merged_range_over_a_million_rows_is_refused_without_filling_it(supervisor_client):
    data = package(HEADER_XML + contact_rows_xml(2), merges=["A2:J1048576"])

    response, peak = upload(supervisor_client, data)

    assert_refused(response, peak, "行数が多すぎます", "上限 20,000 行")


def test_a_csv_file_wider_than_the_limit_is_refused(supervisor_client):
    header = [f"列{n}" for n in range(16_384)]
    data = csv_file([header, ["x"] * 16_384])

    response, peak = upload(supervisor_client, data, "wide.csv")

    assert_refused(response, peak, "列が多すぎます", "上限 100 列")


def test_the_mapping_page_shows_a_bounded_preview_of_a_wide_file_with_long_cells(
    supervisor_client,
):
    rng = random.Random(11)

    def long_text() -> str:
        return "".join(chr(rng.randrange(0x4E00, 0x9FA0)) for _n in range(2_000))

    rows = [[long_text() for _c in range(100)] for _r in range(6)]  # 100 columns, at the limit
    response, _peak = upload(supervisor_client, xlsx(rows))
    assert response.status_code == 302

    page = supervisor_client.get(response.url)

    assert page.status_code == 200
    assert len(page.context["form"].fields) == 100
    # A select of the targets and a short, truncated sample per column: a few kilobytes
    # each, where the full headers alone would be 600 KB.
    assert len(page.content) < 100 * 4 * 1024
    content = page.content.decode()
    assert rows[0][0][:10] in content and rows[0][0][:200] not in content  # a header
    assert rows[1][0][:10] in content and rows[1][0][:200] not in content  # a value


def test_a_legitimate_file_still_goes_through_every_step(supervisor_client):
    data = xlsx([CONTACT_HEADER, *[contact_row(f"R6.4.{n}") for n in range(1, 29)]])

    response, _peak = upload(supervisor_client, data)
    assert response.status_code == 302
    mapping = supervisor_client.get(response.url)
    assert mapping.status_code == 200
    choices = {name: field.initial or "" for name, field in mapping.context["form"].fields.items()}
    review = supervisor_client.post(response.url, choices)
    assert review.status_code == 302
    assert supervisor_client.get(review.url).status_code == 200
    done = supervisor_client.post(review.url, {})

    assert done.status_code == 302
    assert ImportBatch.objects.get().rows == 28
    assert Contact.objects.count() == 28
