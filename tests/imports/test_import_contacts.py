"""Contacts (相談記録) from real XLSX and CSV files, through the real database."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import Action, Event
from casework import services as casework
from casework.models import Case, Contact, DataKey
from imports import services
from imports.models import ImportBatch, LegacyReference
from tests.imports.conftest import CONTACT_HEADER, contact_row, csv_file, xlsx

pytestmark = pytest.mark.django_db


def run(user, data: bytes, *, kind: str = "contacts", force: bool = False, name="相談.xlsx"):
    sheet = services.read(data, kind)
    mapping = services.suggest_mapping(user, sheet, kind=kind)
    return services.import_sheet(
        user,
        sheet,
        kind=kind,
        mapping=mapping,
        file_name=name,
        sha256=services.file_sha256(data),
        force=force,
    )


def check(user, data: bytes, kind: str = "contacts") -> services.Check:
    sheet = services.read(data, kind)
    mapping = services.suggest_mapping(user, sheet, kind=kind)
    return services.check(
        user, sheet, kind=kind, mapping=mapping, sha256=services.file_sha256(data)
    )


def test_a_clean_xlsx_file_imports_every_contact_with_its_values(centre):
    data = xlsx(
        [
            CONTACT_HEADER,
            contact_row("R6.4.1"),
            contact_row("2024/4/2", 相談方法="家庭訪問", 相談者="本人", 対応時間=45.0, 性別="女"),
        ]
    )

    batch = run(centre.supervisor, data)

    assert (batch.rows, batch.contacts_created, batch.cases_created) == (2, 2, 0)
    first, second = Contact.objects.order_by("occurred_at")
    assert timezone.localtime(first.occurred_at).date() == datetime.date(2024, 4, 1)
    assert (first.channel, first.consulter, first.kind, first.minutes) == (
        "phone",
        "parent",
        "first",
        30,
    )
    assert (first.age_band, first.gender, first.municipality) == ("20s", "male", centre.tsu)
    assert (second.channel, second.consulter, second.minutes, second.gender) == (
        "home_visit",
        "self",
        45,
        "female",
    )
    assert first.case is None and first.staff == centre.supervisor
    assert first.organisation == centre.org
    assert first.summary == "昼夜逆転の相談"


def test_anonymous_contacts_are_encrypted_at_rest_under_the_organisation_year_key(centre):
    run(centre.supervisor, xlsx([CONTACT_HEADER, contact_row("R6.4.1", 相談内容="秘密の相談内容")]))

    contact = Contact.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT summary FROM casework_contact")
        (stored,) = cursor.fetchone()
    assert "秘密" not in stored and stored.startswith("e1.")
    key = DataKey.objects.get(pk=contact.data_key_id)
    assert (key.organisation_id, key.fiscal_year) == (centre.org.pk, 2024)
    assert Contact.objects.get().summary == "秘密の相談内容"


def test_history_rows_exist_with_the_importer_as_history_user(centre):
    run(centre.supervisor, xlsx([CONTACT_HEADER, contact_row(), contact_row("R6.4.2")]))

    history = Contact.history.all()
    assert history.count() == 2
    assert {h.history_user for h in history} == {centre.supervisor}
    assert {h.summary for h in history} == {"昼夜逆転の相談"}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_csv_files_import_in_each_encoding(centre, encoding):
    data = csv_file(
        [CONTACT_HEADER, contact_row("令和6年4月1日", 相談内容="電話で相談（ｶﾅ）")], encoding
    )

    run(centre.supervisor, data, name="相談.csv")

    contact = Contact.objects.get()
    assert contact.channel == "phone"
    assert contact.summary == "電話で相談（ｶﾅ）"


def test_contacts_link_to_cases_by_system_code_and_by_legacy_number(centre):
    person = casework.open_case(
        centre.supervisor,
        identity={"name": "山田 太郎", "birth_date": datetime.date(1990, 6, 1)},
        client_attributes={"gender": "male", "municipality": centre.ise},
    )
    legacy = casework.open_case(centre.supervisor, identity={"name": "鈴木 花子"})
    earlier = ImportBatch.objects.create(
        organisation=centre.org,
        kind="cases",
        file_name="x",
        file_sha256="0" * 64,
        rows=1,
        imported_by=centre.supervisor,
    )
    LegacyReference.objects.create(
        organisation=centre.org, reference="A-12", case=legacy, batch=earlier
    )
    data = xlsx(
        [
            CONTACT_HEADER,
            contact_row("R6.5.1", ケース番号=person.code, 年代="60代", 性別="女", 居住地="津市"),
            contact_row("R6.5.3", ケース番号="Ａ－１２"),
            contact_row("R6.5.2", ケース番号="A-12"),
            contact_row("R6.5.4"),
        ]
    )

    result = check(centre.supervisor, data)
    assert (result.contacts_created, result.contacts_linked, result.contacts_anonymous) == (4, 3, 1)
    run(centre.supervisor, data)

    linked = Contact.objects.get(case=person)
    # The snapshot comes from the person, as log_contact does, not from the row.
    assert (linked.age_band, linked.gender, linked.municipality) == ("30s", "male", centre.ise)
    assert linked.data_key_id == person.data_key_id
    assert linked.summary == "昼夜逆転の相談"
    assert Contact.objects.filter(case=legacy).count() == 2
    legacy.refresh_from_db()
    person.refresh_from_db()
    assert timezone.localtime(legacy.last_contact_at).date() == datetime.date(2024, 5, 3)
    assert timezone.localtime(person.last_contact_at).date() == datetime.date(2024, 5, 1)


def test_a_case_of_another_organisation_cannot_be_named(centre, other_centre):
    theirs = casework.open_case(other_centre.counsellor, identity={"name": "他 組織"})
    data = xlsx([CONTACT_HEADER, contact_row(ケース番号=theirs.code)])

    result = check(centre.supervisor, data)

    assert [(e.row, e.letter, e.column) for e in result.errors] == [(2, "F", "ケース番号")]
    assert "記録を追加できるケースがありません" in result.errors[0].message


def test_one_bad_row_among_a_thousand_imports_nothing_and_names_row_and_column(centre):
    rows = [contact_row(f"2024/{1 + i % 12}/{1 + i % 28}") for i in range(1000)]
    rows[736] = contact_row("R6.2.30")  # no 30 February
    data = xlsx([CONTACT_HEADER, *rows])

    with pytest.raises(services.ImportRefused) as refused:
        run(centre.supervisor, data)

    errors = refused.value.check.errors
    assert [(e.row, e.letter, e.column) for e in errors] == [(738, "A", "相談日")]
    assert "存在しない日付" in errors[0].message
    assert str(errors[0]) == "738行目 A列「相談日」：存在しない日付です。"
    assert Contact.objects.count() == 0
    assert ImportBatch.objects.count() == 0
    assert not Event.objects.filter(action=Action.IMPORT).exists()


def test_every_invalid_cell_is_listed_by_row_and_column(centre):
    data = csv_file(
        [
            CONTACT_HEADER,
            contact_row(相談方法="伝書鳩"),
            contact_row("", 対応時間="2000"),
            contact_row("2999/1/1", 居住地="どこか市"),
        ]
    )

    errors = check(centre.supervisor, data).errors

    assert [(e.row, e.letter) for e in errors] == [(2, "B"), (3, "A"), (3, "E"), (4, "A"), (4, "J")]
    assert "必須" in errors[1].message
    assert "未来" in errors[3].message


def test_reimporting_the_same_file_is_refused_unless_forced(centre):
    data = xlsx([CONTACT_HEADER, contact_row()])
    first = run(centre.supervisor, data)

    with pytest.raises(services.AlreadyImported) as refused:
        run(centre.supervisor, data)
    assert "取り込み済み" in str(refused.value)
    assert refused.value.previous == first
    assert check(centre.supervisor, data).previous == first
    assert Contact.objects.count() == 1

    again = run(centre.supervisor, data, force=True)
    assert again.forced and not first.forced
    assert Contact.objects.count() == 2
    event = Event.objects.filter(action=Action.IMPORT).order_by("seq").last()
    assert event.detail["forced"] is True
    assert event.detail["previous_batch"] == str(first.pk)


def test_the_import_is_one_audit_event_with_the_hash_and_counts_and_no_cell_content(centre):
    data = xlsx([CONTACT_HEADER, *[contact_row(相談内容="カナリア値XYZ") for _ in range(5)]])
    before = Event.objects.count()

    batch = run(centre.supervisor, data)

    events = Event.objects.filter(seq__gt=before)
    assert [e.action for e in events] == [Action.IMPORT]
    event = events.get()
    assert (event.object_type, event.object_ref) == ("imports.ImportBatch", str(batch.pk))
    assert event.actor_id == centre.supervisor.pk
    assert event.detail["file_sha256"] == services.file_sha256(data)
    assert (event.detail["rows"], event.detail["contacts_created"]) == (5, 5)
    assert event.detail["kind"] == "contacts" and event.detail["forced"] is False
    assert "カナリア" not in str(event.detail) and "相談.xlsx" not in str(event.detail)


def test_numbers_stored_as_text_and_excel_number_cells_are_read(centre):
    data = xlsx(
        [
            CONTACT_HEADER,
            contact_row(対応時間="３０"),
            contact_row(対応時間=30.0),
            contact_row(対応時間="30.0"),
            contact_row(datetime.datetime(2024, 4, 1, 9, 15), 対応時間=15),  # noqa: DTZ001
        ]
    )

    run(centre.supervisor, data)

    assert sorted(Contact.objects.values_list("minutes", flat=True)) == [15, 30, 30, 30]
    timed = Contact.objects.get(minutes=15)
    assert timezone.localtime(timed.occurred_at).time() == datetime.time(9, 15)


def test_merged_header_cells_and_a_title_row_are_understood(centre):
    data = xlsx(
        [
            ["令和6年度 相談記録一覧"],
            ["相談日", "相談方法", "相談者", None, "対応時間", "相談内容"],
            [None, None, "区分", "年代", None, None],
            ["R6.4.1", "電話", "母", "20代", "３０", "内容A"],
            ["R6.4.2", "来所", "本人", "30代", 60, "内容B"],
        ],
        merges=["A1:F1", "A2:A3", "B2:B3", "C2:D2", "E2:E3", "F2:F3"],
    )
    sheet = services.read(data, "contacts")
    assert sheet.headers == [
        "相談日",
        "相談方法",
        "相談者／区分",
        "相談者／年代",
        "対応時間",
        "相談内容",
    ]
    assert services.suggest_mapping(centre.supervisor, sheet, kind="contacts") == {
        "相談日": "occurred_on",
        "相談方法": "channel",
        "相談者／区分": "consulter",
        "相談者／年代": "age_band",
        "対応時間": "minutes",
        "相談内容": "summary",
    }
    assert [number for number, _cells in sheet.rows] == [4, 5]

    run(centre.supervisor, data)

    assert sorted(Contact.objects.values_list("consulter", "age_band", "minutes")) == [
        ("parent", "20s", 30),
        ("self", "30s", 60),
    ]


def test_a_merged_data_cell_applies_to_each_row_it_covers(centre):
    data = xlsx(
        [CONTACT_HEADER[:3], ["R6.4.1", "電話", "母"], [None, "来所", "父"]],
        merges=["A2:A3"],
    )
    run(centre.supervisor, data)
    days = {timezone.localtime(c.occurred_at).date() for c in Contact.objects.all()}
    assert days == {datetime.date(2024, 4, 1)}


def test_a_formula_cell_is_an_error_for_its_row(centre):
    data = xlsx([CONTACT_HEADER[:3], ["R6.4.1", "電話", "母"], ["=TODAY()", "電話", "母"]])

    errors = check(centre.supervisor, data).errors

    assert [(e.row, e.letter) for e in errors] == [(3, "A")]
    assert "数式" in errors[0].message


def test_staff_are_named_by_user_name_or_display_name_within_the_organisation(centre, other_centre):
    header = [*CONTACT_HEADER[:3], "対応職員"]
    data = xlsx(
        [
            header,
            ["R6.4.1", "電話", "母", "c1"],
            ["R6.4.2", "電話", "母", "相談一郎"],
            ["R6.4.3", "電話", "母", other_centre.counsellor.username],
        ]
    )
    errors = check(centre.supervisor, data).errors
    assert [(e.row, e.letter) for e in errors] == [(4, "D")]

    run(centre.supervisor, xlsx([header, ["R6.4.1", "電話", "母", "c1"]]))
    assert Contact.objects.get().staff == centre.counsellor


def test_municipalities_by_name_or_local_government_code(centre):
    data = xlsx(
        [
            [*CONTACT_HEADER[:3], "市町村"],
            ["R6.4.1", "電話", "母", "津市"],
            ["R6.4.2", "電話", "母", centre.ise.local_government_code],
            ["R6.4.3", "電話", "母", "三重県津市"],
        ]
    )
    run(centre.supervisor, data)
    assert sorted(Contact.objects.values_list("municipality__name", flat=True)) == [
        "伊勢市",
        "津市",
        "津市",
    ]


def test_a_counsellor_may_not_import(centre):
    data = xlsx([CONTACT_HEADER, contact_row()])
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        run(centre.counsellor, data)
    assert Contact.objects.count() == 0


def test_cases_untouched_by_a_contact_import_keep_their_last_contact(centre):
    case = casework.open_case(centre.supervisor, identity={"name": "山田"})
    casework.log_contact(centre.supervisor, case=case, occurred_at=timezone.now())
    before = Case.objects.get(pk=case.pk).last_contact_at

    run(centre.supervisor, xlsx([CONTACT_HEADER, contact_row("R6.4.1", ケース番号=case.code)]))

    assert Case.objects.get(pk=case.pk).last_contact_at == before
