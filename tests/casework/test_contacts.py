"""The contact log: quick form, anonymous contacts that still count, bad input saving nothing."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from casework import services
from casework.models import Channel, Consulter, Contact, Milestone
from tests.factories import make_organisation

pytestmark = pytest.mark.django_db

CANARY = "canary-contact-0c9e 誰にも見せない"


def valid_post(**overrides):
    data = {
        "case_code": "",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "channel": "phone",
        "consulter": "parent",
        "kind": "first",
        "minutes": "15",
        "summary": "母親から電話",
        "age_band": "20s",
        "gender": "male",
        "municipality": "",
    }
    return {**data, **overrides}


def test_a_phone_call_logged_from_the_quick_form_lands_on_the_case(client, world):
    case = services.open_case(world.counsellor, identity={"name": "電話 太郎"})
    client.force_login(world.counsellor)
    response = client.post(reverse("casework:contact_new"), valid_post(case_code=case.code.lower()))
    assert response.status_code == 302
    assert response["Location"] == reverse("casework:case_detail", kwargs={"code": case.code})
    contact = Contact.objects.get()
    assert contact.case == case and contact.staff == world.counsellor
    assert contact.channel == Channel.PHONE and contact.summary == "母親から電話"
    case.refresh_from_db()
    assert case.last_contact_at == contact.occurred_at


def test_anonymous_contacts_are_saved_and_counted_by_channel_consulter_and_municipality(
    client, world
):
    town = make_organisation("municipality", name="試験町")
    client.force_login(world.counsellor)
    for channel, consulter in [("phone", "parent"), ("phone", "self"), ("email", "parent")]:
        response = client.post(
            reverse("casework:contact_new"),
            valid_post(channel=channel, consulter=consulter, municipality=str(town.pk)),
        )
        assert response.status_code == 302
    contacts = Contact.objects.filter(case__isnull=True, organisation=world.centre)
    by_channel = dict(contacts.values_list("channel").annotate(n=Count("id")))
    by_consulter = dict(contacts.values_list("consulter").annotate(n=Count("id")))
    by_town = dict(contacts.values_list("municipality").annotate(n=Count("id")))
    assert by_channel == {Channel.PHONE: 2, Channel.EMAIL: 1}
    assert by_consulter == {Consulter.PARENT: 2, Consulter.SELF: 1}
    assert by_town == {town.pk: 3}
    assert {c.age_band for c in contacts} == {"20s"}
    # Encrypted under the organisation's key for the fiscal year, not a case key.
    assert contacts.values("data_key").distinct().count() == 1
    assert contacts.first().data_key.organisation_id == world.centre.pk


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {
                "occurred_at": (timezone.localtime() + datetime.timedelta(days=2)).strftime(
                    "%Y-%m-%dT%H:%M"
                )
            },
            "occurred_at",
            "未来の日付",
        ),
        ({"minutes": "-5"}, "minutes", "0 以上"),
        ({"case_code": "C-NOPE00"}, "case_code", "見つかりません"),
        ({"summary": "あ" * 4001}, "summary", "4000"),
        ({"channel": "fax"}, "channel", "正しく選択"),
    ],
)
def test_bad_input_rerenders_with_a_japanese_field_error_and_saves_nothing(
    client, world, overrides, field, message
):
    client.force_login(world.counsellor)
    response = client.post(reverse("casework:contact_new"), valid_post(**overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    assert any(message in error for error in errors), errors
    assert Contact.objects.count() == 0


def test_a_case_of_another_organisation_cannot_be_logged_against(client, world):
    theirs = services.open_case(world.other_counsellor, identity={"name": "他組織"})
    client.force_login(world.counsellor)
    response = client.post(reverse("casework:contact_new"), valid_post(case_code=theirs.code))
    assert response.status_code == 200
    assert "見つかりません" in str(response.context["form"].errors["case_code"])
    assert Contact.objects.count() == 0


def test_contact_and_milestone_text_is_ciphertext_at_rest_history_included(world):
    case = services.open_case(
        world.counsellor,
        identity={"name": "保存 試験"},
        case_fields={"opened_on": datetime.date(2024, 1, 1)},
    )
    contact = services.log_contact(world.counsellor, case=case, summary=CANARY, follow_up=CANARY)
    services.complete_follow_up(world.counsellor, contact)
    services.record_milestone(
        world.counsellor,
        case,
        kind=Milestone.Kind.EMPLOYED,
        achieved_on=datetime.date(2024, 1, 5),
        note=CANARY,
    )
    services.log_contact(world.counsellor, summary=CANARY)  # anonymous
    with connection.cursor() as cursor:
        for table in (
            "casework_contact",
            "casework_historicalcontact",
            "casework_milestone",
            "casework_historicalmilestone",
        ):
            cursor.execute(f"SELECT * FROM {table}")
            rows = cursor.fetchall()
            assert rows, table
            assert "canary-contact" not in repr(rows), table
    assert Contact.objects.get(pk=contact.pk).follow_up == CANARY


@pytest.mark.parametrize("minutes", [24 * 60 + 1, 5000])
def test_the_service_refuses_more_minutes_than_a_day_has_and_saves_nothing(world, minutes):
    case = services.open_case(world.counsellor, identity={"name": "時間 試験"})
    with pytest.raises(ValidationError) as refused:
        services.log_contact(world.counsellor, case=case, minutes=minutes, summary="記録")
    assert "minutes" in refused.value.message_dict
    assert Contact.objects.count() == 0
    contact = services.log_contact(world.counsellor, case=case, minutes=24 * 60, summary="記録")
    assert contact.minutes == 24 * 60


def _selected_kind(html: str) -> str:
    """The value of the 新規／継続 option the page preselects."""
    import re

    select = re.search(r'<select name="kind"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None
    chosen = re.search(r'<option value="(\w+)"[^>]*selected', select.group(1))
    assert chosen is not None
    return chosen.group(1)


def test_a_call_without_a_case_starts_as_new_and_a_case_call_as_continuing(client, world):
    case = services.open_case(world.counsellor, identity={"name": "電話 太郎"})
    client.force_login(world.counsellor)
    blank = client.get(reverse("casework:contact_new"))
    assert _selected_kind(blank.content.decode()) == Contact.Kind.FIRST
    on_case = client.get(reverse("casework:contact_new") + f"?case={case.code}")
    assert _selected_kind(on_case.content.decode()) == Contact.Kind.CONTINUING


def test_a_case_contact_needs_no_snapshot_fields_and_takes_the_persons(client, world):
    case = services.open_case(
        world.counsellor, identity={"name": "電話 太郎"}, client_attributes={"gender": "female"}
    )
    client.force_login(world.counsellor)
    post = valid_post(case_code=case.code, kind="continuing", age_band="", gender="")
    response = client.post(reverse("casework:contact_new"), post)
    assert response.status_code == 302
    assert Contact.objects.get().gender == "female"
    # An anonymous call left blank records 不明, not an error.
    response = client.post(reverse("casework:contact_new"), valid_post(age_band="", gender=""))
    assert response.status_code == 302
    anonymous = Contact.objects.get(case=None)
    assert (anonymous.age_band, anonymous.gender) == ("unknown", "unknown")
