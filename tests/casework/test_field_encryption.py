"""Envelope field encryption, checked against the raw tables of the real database."""

from __future__ import annotations

import datetime
import subprocess
import sys
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection, transaction

from casework import crypto
from casework.fields import Erased
from casework.models import Case, Client, DataKey
from casework.services import rewrap_data_keys
from tests.factories import make_case, make_client, make_organisation

pytestmark = pytest.mark.django_db

CANARY_NAME = "カナリア試験氏名ZQX"
CANARY_NOTE = "canary-note-7f3a9e: 秘密の相談内容"


def raw_rows(table: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
        return cursor.fetchall()


def raw_text(table: str) -> str:
    return "\n".join(repr(row) for row in raw_rows(table))


def raw_column(table: str, column: str, row_id: uuid.UUID) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM {table} WHERE id = %s",
            [row_id.hex if connection.vendor == "sqlite" else row_id],
        )
        return cursor.fetchone()[0]


def set_raw_column(table: str, column: str, row_id: uuid.UUID, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = %s WHERE id = %s",
            [value, row_id.hex if connection.vendor == "sqlite" else row_id],
        )


def fresh(model, pk):
    return model.objects.get(pk=pk)


def test_values_round_trip_through_the_database():
    client = make_client(
        name=CANARY_NAME,
        name_kana="カナリア タロウ",
        birth_date=datetime.date(1990, 5, 17),
        phone="090-1234-5678",
        notes=CANARY_NOTE,
    )
    loaded = fresh(Client, client.pk)
    assert loaded.name == CANARY_NAME
    assert loaded.birth_date == datetime.date(1990, 5, 17)
    assert loaded.notes == CANARY_NOTE
    assert loaded.address is None
    assert loaded.birth_year == 1990


def test_raw_rows_and_history_rows_hold_only_ciphertext():
    client = make_client(name=CANARY_NAME, notes=CANARY_NOTE, phone="0591234567")
    client = fresh(Client, client.pk)
    client.notes = CANARY_NOTE + " 追記"
    client.save()
    case = make_case(client=client, summary=CANARY_NOTE)

    for table in (
        "casework_client",
        "casework_historicalclient",
        "casework_case",
        "casework_historicalcase",
    ):
        text = raw_text(table)
        assert text, f"{table} is empty"
        assert CANARY_NAME not in text and "canary-note-7f3a9e" not in text, table
        assert "秘密" not in text and "0591234567" not in text, table
    assert raw_column("casework_client", "notes", client.pk).startswith("e1.")
    history_notes = [row.notes for row in client.history.all()]
    assert sorted(history_notes) == sorted([CANARY_NOTE, CANARY_NOTE + " 追記"])
    assert case.history.get().summary == CANARY_NOTE


def test_bulk_create_encrypts_and_fills_the_blind_index():
    org = make_organisation()
    key = DataKey.create()
    clients = [
        Client(
            organisation=org,
            data_key=key,
            code=f"P-BULK{i:02d}",
            name=f"{CANARY_NAME}{i}",
            phone=f"0800000{i:04d}",
        )
        for i in range(20)
    ]
    Client.objects.bulk_create(clients)
    assert CANARY_NAME not in raw_text("casework_client")
    loaded = Client.objects.get(code="P-BULK07")
    assert loaded.name == f"{CANARY_NAME}7"
    assert loaded.phone_index == loaded._meta.get_field("phone_index").compute(loaded)


def test_a_ciphertext_copied_to_another_row_does_not_decrypt():
    shared_key = DataKey.create()
    org = make_organisation()
    first = make_client(organisation=org, data_key=shared_key, notes="first row's note")
    second = make_client(organisation=org, data_key=shared_key, notes="second row's note")
    set_raw_column(
        "casework_client", "notes", second.pk, raw_column("casework_client", "notes", first.pk)
    )
    with pytest.raises(crypto.DecryptionError, match="failed authentication"):
        fresh(Client, second.pk).notes  # noqa: B018


def test_a_ciphertext_copied_to_another_field_does_not_decrypt():
    client = make_client(name="名前の値", notes="備考の値")
    set_raw_column(
        "casework_client", "notes", client.pk, raw_column("casework_client", "name", client.pk)
    )
    loaded = fresh(Client, client.pk)
    assert loaded.name == "名前の値"
    with pytest.raises(crypto.DecryptionError):
        loaded.notes  # noqa: B018


def test_a_tampered_ciphertext_is_refused_not_returned_as_garbage():
    client = make_client(notes="改ざん検知")
    stored = raw_column("casework_client", "notes", client.pk)
    flipped = stored[:-2] + ("A" if stored[-2] != "A" else "B") + stored[-1]
    set_raw_column("casework_client", "notes", client.pk, flipped)
    with pytest.raises(crypto.DecryptionError):
        fresh(Client, client.pk).notes  # noqa: B018


def test_encrypted_fields_refuse_filters_and_queryset_updates():
    make_client(name="検索不可")
    with pytest.raises(TypeError, match="encrypted"):
        list(Client.objects.filter(name="検索不可"))
    with pytest.raises(TypeError, match="encrypted"):
        Client.objects.update(notes="bypass")


def test_a_new_key_in_the_ring_encrypts_new_data_and_old_values_still_read(settings):
    old_spec = settings.FIELD_ENCRYPTION_KEYS
    before = make_case(summary="旧鍵で暗号化")
    settings.FIELD_ENCRYPTION_KEYS = f"{old_spec},k2:{crypto.generate_key()}"
    after = make_case(summary="新鍵で暗号化")
    assert DataKey.objects.get(pk=after.data_key_id).kek_id == "k2"
    assert DataKey.objects.get(pk=before.data_key_id).kek_id == "test1"
    crypto.cipher_cache.clear()
    assert fresh(Case, before.pk).summary == "旧鍵で暗号化"
    assert fresh(Case, after.pk).summary == "新鍵で暗号化"


def test_rewrapping_touches_data_keys_only_then_the_old_key_can_go(settings):
    old_spec = settings.FIELD_ENCRYPTION_KEYS
    organisation = make_organisation()
    cases = [make_case(organisation, summary=f"概要{i}") for i in range(1000)]
    clients = [make_client(name=f"氏名{i}") for i in range(5)]
    field_values_before = raw_text("casework_case") + raw_text("casework_client")
    history_before = raw_text("casework_historicalcase") + raw_text("casework_historicalclient")

    new_key = crypto.generate_key()
    settings.FIELD_ENCRYPTION_KEYS = f"{old_spec},k2:{new_key}"
    assert rewrap_data_keys(batch_size=300) == 1005

    assert raw_text("casework_case") + raw_text("casework_client") == field_values_before
    assert (
        raw_text("casework_historicalcase") + raw_text("casework_historicalclient")
        == history_before
    )
    assert set(DataKey.objects.values_list("kek_id", flat=True)) == {"k2"}

    settings.FIELD_ENCRYPTION_KEYS = f"k2:{new_key}"  # the old key is removed
    crypto.cipher_cache.clear()
    assert [c.summary for c in Case.objects.order_by("code")] == [
        c.summary for c in sorted(cases, key=lambda c: c.code)
    ]
    assert [fresh(Case, c.pk).summary for c in cases[:5]] == [f"概要{i}" for i in range(5)]
    assert [fresh(Client, c.pk).name for c in clients] == [f"氏名{i}" for i in range(5)]
    assert rewrap_data_keys() == 0


def test_removing_a_key_before_rewrapping_is_a_clear_error(settings):
    case = make_case(summary="鍵なし")
    settings.FIELD_ENCRYPTION_KEYS = f"k9:{crypto.generate_key()}"
    with pytest.raises(crypto.KeyNotFound, match="'test1', which is not in FIELD_ENCRYPTION_KEYS"):
        fresh(Case, case.pk).summary  # noqa: B018


def test_a_different_key_under_the_same_id_is_a_clear_error(settings):
    case = make_case(summary="別の鍵")
    settings.FIELD_ENCRYPTION_KEYS = f"test1:{crypto.generate_key()}"
    with pytest.raises(crypto.DecryptionError, match="different key under that id"):
        fresh(Case, case.pk).summary  # noqa: B018


def test_destroying_a_case_data_key_erases_its_values_everywhere_but_not_others():
    erased = make_case(summary=CANARY_NOTE)
    erased.summary = CANARY_NOTE + " 2"
    erased.save()
    kept = make_case(summary="残るケース")

    DataKey.objects.get(pk=erased.data_key_id).destroy()

    stored = Case.objects.filter(pk=erased.pk).values_list("summary", flat=True).get()
    with pytest.raises(crypto.DataKeyDestroyed, match="was destroyed"):
        crypto.decrypt_value(stored, crypto.associated_data("casework.case", "summary", erased.pk))
    # Through the model, an erased value reads as a marker (screens never fail on it)...
    assert isinstance(fresh(Case, erased.pk).summary, Erased)
    assert fresh(Case, erased.pk).summary == "（消去済み）"
    for row in erased.history.all():
        assert isinstance(row.summary, Erased)
    # ...and nothing can be written under the destroyed key.
    again = fresh(Case, erased.pk)
    again.summary = "新しい内容"
    with pytest.raises(ValidationError, match="消去されている"), transaction.atomic():
        again.save()
    # Non-sensitive facts survive for statistics.
    assert fresh(Case, erased.pk).status == Case.Status.INTAKE
    assert fresh(Case, kept.pk).summary == "残るケース"
    wrapped = DataKey.objects.get(pk=kept.data_key_id).wrapped
    assert wrapped is not None and bytes(wrapped)
    assert DataKey.objects.get(pk=erased.data_key_id).wrapped is None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "FIELD_ENCRYPTION_KEYS is not set"),
        ("nokeyhere", "must be 'id:base64key'"),
        ("k1:not-base64!!", "not valid base64"),
        ("k1:c2hvcnQ=", "32 random bytes"),
    ],
)
def test_a_missing_or_malformed_key_ring_is_a_clear_configuration_error(spec, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        crypto.KeyRing.parse(spec)


def test_a_missing_key_stops_the_application_at_startup(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "SECRET_KEY": "x" * 50,
            "BLIND_INDEX_KEY": "",
            "FIELD_ENCRYPTION_KEYS": "",
            "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
            "PYTHONPATH": ".",
        },
        check=False,
        cwd=str(__import__("django").conf.settings.BASE_DIR),
        timeout=60,
    )
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS is not set" in result.stderr


def test_organisation_year_keys_are_one_per_organisation_and_year():
    org = make_organisation()
    first = DataKey.for_organisation_year(org.pk, 2024)
    assert DataKey.for_organisation_year(org.pk, 2024) == first
    assert DataKey.for_organisation_year(org.pk, 2025) != first
