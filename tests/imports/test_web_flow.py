"""The import pages: upload → column mapping → check → import, for supervisors only."""

from __future__ import annotations

import contextlib
import datetime
import io
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from casework.models import Contact, DataKey
from imports import reading
from imports.models import ImportBatch, ImportMapping, PendingUpload
from tests.imports.conftest import CONTACT_HEADER, contact_row, csv_file, xlsx

pytestmark = pytest.mark.django_db


def upload(client, data: bytes, name: str = "相談記録.xlsx", kind: str = "contacts"):
    return client.post(
        reverse("imports:upload"), {"kind": kind, "file": SimpleUploadedFile(name, data)}
    )


def mapping_post(response) -> dict[str, str]:
    """The mapping form as the page pre-fills it."""
    form = response.context["form"]
    return {name: form[name].value() or "" for name in form.fields}


def test_a_supervisor_uploads_maps_checks_and_imports(client, centre):
    client.force_login(centre.supervisor)
    assert "取り込み" in client.get(reverse("home")).content.decode()
    data = xlsx([CONTACT_HEADER, contact_row("R6.4.1"), contact_row("R6.4.2")])

    response = upload(client, data)
    pending = PendingUpload.objects.get()
    assert response.url == reverse("imports:mapping", args=[pending.pk])

    response = client.get(response.url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "A列「相談日」" in page and "データは2行です" in page
    choices = mapping_post(response)
    assert choices["column_0"] == "occurred_on" and choices["column_9"] == "municipality"

    response = client.post(reverse("imports:mapping", args=[pending.pk]), choices)
    assert response.url == reverse("imports:review", args=[pending.pk])

    page = client.get(response.url).content.decode()
    assert "新しい相談記録" in page and "匿名の相談" in page
    assert "昼夜逆転" not in page  # free text is not previewed
    assert Contact.objects.count() == 0

    response = client.post(reverse("imports:review", args=[pending.pk]), {})
    batch = ImportBatch.objects.get()
    assert response.url == reverse("imports:done", args=[batch.pk])
    assert Contact.objects.count() == 2
    assert not PendingUpload.objects.exists()
    page = client.get(response.url).content.decode()
    assert "作成した相談記録" in page


def test_errors_are_listed_by_row_and_column_and_nothing_is_imported(client, centre):
    client.force_login(centre.supervisor)
    upload(client, xlsx([CONTACT_HEADER, contact_row(), contact_row("R6.2.30")]))
    pending = PendingUpload.objects.get()
    client.post(
        reverse("imports:mapping", args=[pending.pk]),
        mapping_post(client.get(reverse("imports:mapping", args=[pending.pk]))),
    )

    response = client.post(reverse("imports:review", args=[pending.pk]), {})

    assert response.status_code == 200
    page = response.content.decode()
    assert "1件の誤りがあります" in page and "存在しない日付です" in page
    assert response.context["result"].errors[0].row == 3
    assert Contact.objects.count() == 0


def test_a_file_imported_before_needs_the_force_box(client, centre):
    client.force_login(centre.supervisor)
    data = xlsx([CONTACT_HEADER, contact_row()])
    for attempt in range(2):
        upload(client, data)
        pending = PendingUpload.objects.get()
        mapping = client.get(reverse("imports:mapping", args=[pending.pk]))
        client.post(reverse("imports:mapping", args=[pending.pk]), mapping_post(mapping))
        review = client.get(reverse("imports:review", args=[pending.pk]))
        if attempt == 0:
            client.post(reverse("imports:review", args=[pending.pk]), {})
    page = review.content.decode()
    assert "取り込み済みです" in page and centre.supervisor.username in page
    assert "重複を承知で取り込む" in page

    refused = client.post(reverse("imports:review", args=[pending.pk]), {})
    assert refused.status_code == 200 and Contact.objects.count() == 1
    forced = client.post(reverse("imports:review", args=[pending.pk]), {"force": "on"})
    assert forced.status_code == 302
    assert Contact.objects.count() == 2
    assert ImportBatch.objects.filter(forced=True).count() == 1


def test_the_saved_mapping_is_offered_for_the_next_file(client, centre):
    client.force_login(centre.supervisor)
    header = ["日", "手段", "旧No"]
    upload(client, csv_file([header, ["R6.4.1", "電話", ""]]), "a.csv")
    pending = PendingUpload.objects.get()
    page = client.get(reverse("imports:mapping", args=[pending.pk]))
    assert mapping_post(page) == {"column_0": "", "column_1": "channel", "column_2": ""}
    choose = {"column_0": "occurred_on", "column_1": "channel", "column_2": ""}
    client.post(reverse("imports:mapping", args=[pending.pk]), choose)
    assert ImportMapping.objects.get(organisation=centre.org, kind="contacts").columns == {
        "日": "occurred_on",
        "手段": "channel",
        "旧No": "",
    }
    client.post(reverse("imports:cancel", args=[pending.pk]))
    assert not PendingUpload.objects.exists()

    upload(client, csv_file([header, ["R6.4.2", "来所", ""]]), "b.csv")
    pending = PendingUpload.objects.get()
    assert mapping_post(client.get(reverse("imports:mapping", args=[pending.pk]))) == choose


def test_a_mapping_without_the_required_fields_or_with_a_field_twice_is_refused(client, centre):
    client.force_login(centre.supervisor)
    upload(client, xlsx([CONTACT_HEADER, contact_row()]))
    pending = PendingUpload.objects.get()
    choices = {f"column_{i}": "" for i in range(len(CONTACT_HEADER))}
    choices.update(column_1="channel", column_2="channel")

    response = client.post(reverse("imports:mapping", args=[pending.pk]), choices)

    assert response.status_code == 200
    page = response.content.decode()
    assert "必須の項目「相談日（時刻を含んでもよい）」" in page
    assert "「相談方法」に複数の列が選ばれています" in page


def test_a_counsellor_is_refused_every_step(client, centre):
    client.force_login(centre.counsellor)
    assert client.get(reverse("imports:upload")).status_code == 403
    assert upload(client, xlsx([CONTACT_HEADER, contact_row()])).status_code == 403
    assert not PendingUpload.objects.exists()
    assert "imports/" not in client.get(reverse("home")).content.decode()


def test_another_users_upload_is_not_found(client, centre):
    from accounts.roles import Role
    from tests.factories import make_user

    client.force_login(centre.supervisor)
    upload(client, xlsx([CONTACT_HEADER, contact_row()]))
    pending = PendingUpload.objects.get()
    client.force_login(make_user(Role.SUPERVISOR, organisation=centre.org))
    assert client.get(reverse("imports:mapping", args=[pending.pk])).status_code == 404
    assert client.post(reverse("imports:cancel", args=[pending.pk])).status_code == 404


def test_the_waiting_file_is_encrypted_and_stale_ones_are_removed(client, centre):
    client.force_login(centre.supervisor)
    upload(
        client, csv_file([CONTACT_HEADER, contact_row(相談内容="平文で残らない内容")]), "山田.csv"
    )
    old = PendingUpload.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT parsed, file_name FROM imports_pendingupload")
        parsed, name = cursor.fetchone()
    assert parsed.startswith("e1.") and name.startswith("e1.") and "山田" not in name
    assert "平文で残らない内容" in str(old.sheet().rows)  # the rows as read, kept encrypted
    key_id = old.data_key_id
    PendingUpload.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=25)
    )

    upload(client, xlsx([CONTACT_HEADER, contact_row()]))

    assert list(PendingUpload.objects.values_list("pk", flat=True)) != [old.pk]
    assert PendingUpload.objects.count() == 1
    assert not DataKey.objects.filter(pk=key_id).exists()


def _too_many_rows() -> bytes:
    lines = [",".join(CONTACT_HEADER)] + ["R6.4.1,電話,母"] * 20_001  # the default limit + 1
    return "\n".join(lines).encode()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("a.xlsx", b"", "ファイルが空です"),  # Django's own message for an empty upload
        ("a.csv", b"\n\n", "ファイルが空です"),
        ("a.csv", "相談日,相談方法\n".encode(), "データの行がありません"),
        ("a.csv", b"\x82\xa0\xff\xfe\x81", "文字コードを判別できません"),
        ("a.xlsx", b"PK\x03\x04not really a zip", "Excel ファイル（.xlsx）として読めません"),
        ("a.xlsx", b"\xd0\xcf\x11\xe0old excel", "古い形式（.xls）"),
        ("a.pdf", b"%PDF-1.4", "取り込めるのは Excel（.xlsx）と CSV"),
        ("a.csv", b"\x89PNG\r\n\x1a\n\x00\x00", "表計算ファイル（.xlsx または CSV）ではありません"),
        ("a.csv", _too_many_rows(), "行数が多すぎます"),
    ],
)
def test_bad_files_are_refused_with_a_message_never_a_500(client, centre, name, data, message):
    client.force_login(centre.supervisor)

    response = upload(client, data, name)

    assert response.status_code == 200
    assert message in response.content.decode() or (
        message == "ファイルが空です" and "空" in response.content.decode()
    )
    assert not PendingUpload.objects.exists()


def test_a_file_over_the_size_limit_is_refused(client, centre, settings):
    settings.IMPORT_MAX_BYTES = 1000
    client.force_login(centre.supervisor)
    big = io.BytesIO(b"x" * 2000)
    big.name = "big.csv"

    response = client.post(reverse("imports:upload"), {"kind": "contacts", "file": big})

    assert "ファイルが大きすぎます" in response.content.decode()
    assert not PendingUpload.objects.exists()


@contextlib.contextmanager
def reads_of_the_file() -> Iterator[list[int]]:
    """Counts, in this thread, the calls of the function that reads a file's bytes into a
    sheet (a profile hook: the real code runs, it is only watched)."""
    code = reading.read_sheet.__code__
    count = [0]

    def profile(frame: Any, event: str, _arg: Any) -> None:
        if event == "call" and frame.f_code is code:
            count[0] += 1

    sys.setprofile(profile)
    try:
        yield count
    finally:
        sys.setprofile(None)


def test_the_file_is_read_once_at_upload_and_the_later_steps_use_the_rows_kept_then(client, centre):
    client.force_login(centre.supervisor)
    rows = [contact_row(f"R6.4.{n}") for n in range(1, 6)]
    with reads_of_the_file() as reads:
        upload(client, xlsx([CONTACT_HEADER, *rows]))
    assert reads == [1]
    pending = PendingUpload.objects.get()

    with reads_of_the_file() as reads:
        mapping = client.get(reverse("imports:mapping", args=[pending.pk]))
        client.post(reverse("imports:mapping", args=[pending.pk]), mapping_post(mapping))
        client.get(reverse("imports:review", args=[pending.pk]))
        client.post(reverse("imports:review", args=[pending.pk]), {})

    assert "データは5行です" in mapping.content.decode()
    assert Contact.objects.count() == 5
    assert reads == [0]


def test_the_mapping_page_shows_samples_but_not_identity_or_free_text(client, centre):
    client.force_login(centre.supervisor)
    row = contact_row(相談内容="本文は見せない", 相談者="<b>母</b>")
    upload(client, xlsx([CONTACT_HEADER, row]))
    pending = PendingUpload.objects.get()

    page = client.get(reverse("imports:mapping", args=[pending.pk])).content.decode()

    assert "R6.4.1" in page and "電話" in page
    assert "&lt;b&gt;母&lt;/b&gt;" in page and "<b>母</b>" not in page
    assert "本文は見せない" not in page
