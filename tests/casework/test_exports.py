"""Exports of the case list and the contact log: pseudonymous by default, identity only
for supervisors on a stated purpose, every export audited with its row count."""

from __future__ import annotations

import csv
import datetime
import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import reauth
from audit.models import Action, Event
from casework import services

pytestmark = pytest.mark.django_db

NAME = "輸出 花子"
SECRET = "父親との関係について相談"


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body.startswith(b"\xef\xbb\xbf")  # Excel reads the BOM as UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def data_rows(rows: list[list[str]], first_column: str) -> list[list[str]]:
    """The rows under the header row (the title and heading lines come first)."""
    header = next(i for i, row in enumerate(rows) if row and row[0] == first_column)
    return [row for row in rows[header + 1 :] if any(row)]


@pytest.fixture
def records(world):
    mine = services.open_case(world.counsellor, identity={"name": NAME, "phone": "090-1111-2222"})
    services.log_contact(world.counsellor, case=mine, channel="phone", summary=SECRET)
    closed = services.open_case(world.colleague, identity={"name": "別 次郎"})
    services.close_case(world.colleague, closed, expected_version=closed.version, reason="wish")
    services.log_contact(world.counsellor, channel="email", summary=SECRET)  # anonymous
    elsewhere = services.open_case(world.other_counsellor, identity={"name": "他組織 三郎"})
    services.log_contact(world.other_counsellor, case=elsewhere, channel="phone")
    return {"mine": mine, "closed": closed, "elsewhere": elsewhere}


def test_the_case_list_exports_the_visible_cases_without_identity(client, world, records):
    client.force_login(world.counsellor)
    response = client.get(reverse("casework:case_export", args=["csv"]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="cases_')
    rows = data_rows(csv_rows(response), "ケースコード")
    codes = {row[0] for row in rows}
    assert codes == {records["mine"].code, records["closed"].code}
    body = response.content.decode("utf-8-sig")
    assert NAME not in body and "090-1111-2222" not in body
    event = Event.objects.get(action=Action.EXPORT, object_type="casework.Case")
    assert event.detail["rows"] == len(rows) == 2
    assert event.detail["identity"] is False
    assert NAME not in str(event.detail)


def test_the_export_follows_the_list_filters(client, world, records):
    client.force_login(world.counsellor)
    response = client.get(reverse("casework:case_export", args=["xlsx"]), {"status": "closed"})
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    rows = data_rows(values, "ケースコード")
    assert [row[0] for row in rows] == [records["closed"].code]
    assert rows[0][1] == "終結"
    event = Event.objects.get(action=Action.EXPORT)
    assert event.detail["filters"] == {"status": "closed"} and event.detail["rows"] == 1
    bad = client.get(reverse("casework:case_export", args=["csv"]), {"status": "lost"})
    assert bad.status_code == 400
    assert Event.objects.filter(action=Action.EXPORT).count() == 1


def test_the_contact_log_exports_a_period_without_text_or_identity(client, world, records):
    client.force_login(world.counsellor)
    today = timezone.localdate()
    response = client.get(
        reverse("casework:contact_export"), {"fmt": "csv", "start": today, "end": today}
    )
    assert response.status_code == 200
    rows = data_rows(csv_rows(response), "相談日時")
    assert sorted(row[1] for row in rows) == sorted([records["mine"].code, "（匿名）"])
    body = response.content.decode("utf-8-sig")
    assert SECRET not in body and NAME not in body
    assert (
        Event.objects.get(action=Action.EXPORT, object_type="casework.Contact").detail["rows"] == 2
    )
    # Nothing in an earlier period.
    earlier = today - datetime.timedelta(days=30)
    response = client.get(
        reverse("casework:contact_export"), {"fmt": "csv", "start": earlier, "end": earlier}
    )
    assert data_rows(csv_rows(response), "相談日時") == []


@pytest.mark.parametrize(
    "params, field",
    [
        ({"fmt": "csv", "start": "2026-05-01", "end": "2026-04-01"}, "end"),
        ({"fmt": "csv", "start": "2010-04-01", "end": "2026-04-01"}, "end"),
        ({"fmt": "csv", "start": "", "end": "2026-04-01"}, "start"),
        ({"fmt": "pdf", "start": "2026-04-01", "end": "2026-04-02"}, "fmt"),
    ],
)
def test_a_bad_period_or_format_re_renders_the_form_and_exports_nothing(
    client, world, params, field
):
    client.force_login(world.counsellor)
    response = client.get(reverse("casework:contact_export"), params)
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not Event.objects.filter(action=Action.EXPORT).exists()


def test_too_many_rows_are_refused_with_a_message(client, world, records, settings):
    settings.EXPORT_MAX_ROWS = 1
    client.force_login(world.counsellor)
    response = client.get(reverse("casework:case_export", args=["csv"]))
    assert response.status_code == 400
    assert "条件を絞って" in response.content.decode()
    assert not Event.objects.filter(action=Action.EXPORT).exists()


def test_an_identity_export_needs_a_supervisor_and_a_purpose(client, world, records):
    url = reverse("casework:identity_export")
    client.force_login(world.counsellor)
    assert client.get(url).status_code == 403
    assert (
        client.post(url, {"kind": "cases", "fmt": "csv", "purpose": "引継ぎ資料"}).status_code
        == 403
    )

    client.force_login(world.supervisor)
    missing = client.post(url, {"kind": "cases", "fmt": "csv", "purpose": ""})
    assert missing.status_code == 400
    assert missing.context["form"].errors["purpose"]
    assert not Event.objects.filter(action=Action.EXPORT).exists()

    purpose = "転居先の支援機関への引継ぎ資料の作成"
    response = client.post(url, {"kind": "cases", "fmt": "csv", "purpose": purpose})
    assert response.status_code == 200
    rows = data_rows(csv_rows(response), "ケースコード")
    named = {row[0]: row for row in rows}
    assert NAME in named[records["mine"].code]
    assert "090-1111-2222" in named[records["mine"].code]
    assert records["elsewhere"].code not in named
    event = Event.objects.get(action=Action.EXPORT)
    assert event.actor_id == world.supervisor.pk
    assert (event.detail["identity"], event.detail["purpose"], event.detail["rows"]) == (
        True,
        purpose,
        len(rows),
    )
    assert NAME not in str(event.detail)


def test_an_identity_export_of_contacts_carries_the_text(client, world, records):
    client.force_login(world.supervisor)
    today = timezone.localdate().isoformat()
    response = client.post(
        reverse("casework:identity_export"),
        {
            "kind": "contacts",
            "fmt": "xlsx",
            "start": today,
            "end": today,
            "purpose": "事例検討の資料",
        },
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    cells = {c.value for row in sheet.iter_rows() for c in row}
    assert SECRET in cells and NAME in cells


def test_an_identity_export_needs_a_recent_password(client, world, records):
    client.force_login(world.supervisor)
    session = client.session
    session[reauth.AUTHENTICATED_AT] = 0
    session.save()
    response = client.post(
        reverse("casework:identity_export"),
        {"kind": "cases", "fmt": "csv", "purpose": "引継ぎ資料"},
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:reauthenticate"))
    assert not Event.objects.filter(action=Action.EXPORT).exists()


@pytest.mark.parametrize("role", ["statistics", "auditor", "admin", "mdt"])
def test_roles_without_case_content_cannot_export(client, world, records, role):
    client.force_login(getattr(world, role))
    assert client.get(reverse("casework:case_export", args=["csv"])).status_code == 403
    assert client.get(reverse("casework:contact_export")).status_code == 403
