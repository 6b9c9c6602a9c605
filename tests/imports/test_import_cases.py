"""Cases with their client's identity, from real files: encrypted, indexed, with history."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection

from casework import services as casework
from casework.models import Case, Client, Contact, DataKey
from casework.selectors import find_duplicates
from imports.models import LegacyReference
from tests.imports.conftest import CONTACT_HEADER, contact_row, csv_file, xlsx
from tests.imports.test_import_contacts import check, run

pytestmark = pytest.mark.django_db

CASE_HEADER = [
    "管理番号",
    "氏名",
    "フリガナ",
    "生年月日",
    "電話番号",
    "住所",
    "性別",
    "居住地",
    "受付日",
    "ひきこもり期間",
    "状態",
    "担当者",
]


def case_row(ref: str, name: str = "山田 太郎", **overrides) -> list:
    row = dict(
        zip(
            CASE_HEADER,
            [
                ref,
                name,
                "ヤマダ タロウ",
                "H2.6.1",
                "059-123-4567",
                "津市栄町1-1",
                "男性",
                "津市",
                "R5.4.10",
                "1年～3年未満",
                "支援中",
                "c1",
            ],
            strict=True,
        )
    )
    row.update(overrides)
    return [row[h] for h in CASE_HEADER]


def test_cases_import_with_their_clients_identity_encrypted_at_rest(centre):
    data = xlsx(
        [
            CASE_HEADER,
            case_row("A-1"),
            case_row(
                "A-2", "鈴木 花子", フリガナ="スズキ ハナコ", 電話番号="", 担当者="", 性別="女"
            ),
        ]
    )

    batch = run(centre.supervisor, data, kind="cases")

    assert (batch.cases_created, batch.clients_created, batch.contacts_created) == (2, 2, 0)
    case = Case.objects.get(client__phone_index__isnull=False)
    client = case.client
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, name_kana, birth_date, phone FROM casework_client")
        stored = " ".join(str(v) for row in cursor.fetchall() for v in row)
    assert "山田" not in stored and "ヤマダ" not in stored and "1990" not in stored
    assert "4567" not in stored
    assert (client.name, client.name_kana, client.birth_date) == (
        "山田 太郎",
        "ヤマダ タロウ",
        datetime.date(1990, 6, 1),
    )
    assert (client.phone, client.address) == ("059-123-4567", "津市栄町1-1")
    assert (client.birth_year, client.gender, client.municipality) == (1990, "male", centre.tsu)
    assert client.organisation == centre.org and client.code.startswith("P-")
    assert case.code.startswith("C-") and case.organisation == centre.org
    assert (case.opened_on, case.withdrawal_band, case.status) == (
        datetime.date(2023, 4, 10),
        "1y_3y",
        "active",
    )
    assert list(case.lead_workers.all()) == [centre.counsellor]
    other = Case.objects.exclude(pk=case.pk).get()
    assert list(other.lead_workers.all()) == [centre.supervisor]  # the importer by default


def test_each_case_and_client_has_its_own_data_key(centre):
    run(
        centre.supervisor,
        xlsx([CASE_HEADER, case_row("A-1"), case_row("A-2", フリガナ="ベツ", 電話番号="")]),
        kind="cases",
    )
    keys = list(Case.objects.values_list("data_key_id", flat=True)) + list(
        Client.objects.values_list("data_key_id", flat=True)
    )
    assert len(set(keys)) == 4
    assert DataKey.objects.filter(pk__in=keys, wrapped__isnull=False).count() == 4


def test_blind_indexes_are_filled_so_duplicates_are_found_afterwards(centre):
    run(centre.supervisor, xlsx([CASE_HEADER, case_row("A-1")]), kind="cases")

    found = find_duplicates(
        centre.supervisor, name_kana="ﾔﾏﾀﾞﾀﾛｳ", birth_date=datetime.date(1990, 6, 1)
    )
    assert [case.code for case in found.same_organisation] == [Case.objects.get().code]
    assert find_duplicates(centre.supervisor, phone="0591234567").same_organisation


def test_history_rows_of_cases_clients_and_lead_workers_name_the_importer(centre):
    run(centre.supervisor, xlsx([CASE_HEADER, case_row("A-1")]), kind="cases")

    case = Case.objects.get()
    (case_history,) = case.history.all()
    (client_history,) = case.client.history.all()
    assert case_history.history_user == client_history.history_user == centre.supervisor
    assert client_history.name == "山田 太郎"
    assert [row.user for row in case_history.lead_workers.all()] == [centre.counsellor]


def test_a_person_already_registered_or_twice_in_the_file_stops_the_import(centre):
    existing = casework.open_case(
        centre.supervisor,
        identity={"name_kana": "ヤマダタロウ", "birth_date": datetime.date(1990, 6, 1)},
    )
    data = xlsx(
        [
            CASE_HEADER,
            case_row("A-1"),
            case_row("A-2", フリガナ="サトウ", 電話番号="090-0000-0000"),
            case_row("A-3", フリガナ="サトウ", 電話番号="09000000000"),
        ]
    )

    errors = check(centre.supervisor, data, kind="cases").errors

    assert [(e.row, e.letter) for e in errors] == [(2, "C"), (4, "C")]
    assert existing.code in errors[0].message
    assert "2行目" not in errors[1].message and "3行目と同一人物" in errors[1].message


def test_legacy_numbers_are_recorded_and_cannot_be_imported_twice(centre):
    run(centre.supervisor, xlsx([CASE_HEADER, case_row("A-1")]), kind="cases")
    case = Case.objects.get()
    assert LegacyReference.objects.get(reference="A-1").case == case

    data = csv_file(
        [
            CASE_HEADER,
            case_row("A-1", フリガナ="ベツジン", 電話番号=""),
            case_row("B-1", フリガナ="ベツ1", 電話番号=""),
            case_row("B-1", フリガナ="ベツ2", 電話番号=""),
        ]
    )
    errors = check(centre.supervisor, data, kind="cases").errors
    assert [(e.row, e.letter) for e in errors] == [(2, "A"), (4, "A")]

    contacts = xlsx([CONTACT_HEADER, contact_row(ケース番号="A-1")])
    run(centre.supervisor, contacts)
    assert Contact.objects.get().case == case


def test_a_closed_case_needs_its_closing_date(centre):
    header = ["受付日", "状態", "終結日"]
    data = xlsx(
        [
            header,
            ["R5.4.1", "終結", None],
            ["R5.4.1", None, "R6.3.31"],
            ["R5.4.1", "終結", "R5.3.1"],
        ]
    )

    errors = check(centre.supervisor, data, kind="cases").errors

    assert [(e.row, e.letter) for e in errors] == [(2, "B"), (4, "C")]
    run(centre.supervisor, xlsx([header, ["R5.4.1", None, "R6.3.31"]]), kind="cases")
    case = Case.objects.get()
    assert (case.status, case.closed_on, case.client) == (
        "closed",
        datetime.date(2024, 3, 31),
        None,
    )


def test_the_preview_shows_no_identity(centre):
    result = check(centre.supervisor, xlsx([CASE_HEADER, case_row("A-1")]), kind="cases")

    assert result.ok and (result.cases_created, result.clients_created) == (1, 1)
    shown = " ".join(result.preview_columns + [cell for line in result.preview for cell in line])
    for secret in ("山田", "ヤマダ", "059", "栄町", "1990"):
        assert secret not in shown
    assert "支援中" in shown and "A-1" in shown
