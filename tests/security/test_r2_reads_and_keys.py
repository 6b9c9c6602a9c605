"""Security round 2, findings 10 and 11 (the parts in casework, outreach, referrals and the
API), through HTTP: reads of encrypted content are audited on every path, a data key
destroyed elsewhere stops working here at once, and the API takes no longer record text
than the screen."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation
from accounts.roles import Role
from api.models import ApiToken
from audit.models import Action, Event
from casework import crypto, services
from casework.models import SUMMARY_MAX, DataKey
from outreach import services as outreach
from referrals import services as referral_services
from tests.factories import make_organisation, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def centre(world):
    org, counsellor, supervisor = world.centre, world.counsellor, world.supervisor
    case = services.open_case(
        counsellor,
        identity={
            "name": "監査 花子",
            "name_kana": "カンサ ハナコ",
            "birth_date": datetime.date(1990, 1, 2),
        },
        case_fields={"summary": "概要の本文"},
    )
    return org, counsellor, supervisor, case


def views_of(object_ref: str) -> int:
    return Event.objects.filter(action=Action.VIEW, object_ref=object_ref).count()


def test_the_case_edit_page_is_an_audited_read(client, centre):
    _, counsellor, _, case = centre
    client.force_login(counsellor)
    page = client.get(reverse("casework:case_edit", kwargs={"code": case.code}))
    assert "概要の本文" in page.content.decode()
    assert Event.objects.filter(
        action=Action.VIEW, object_ref=case.code, detail__page="edit"
    ).exists()


def test_the_visit_page_is_an_audited_read(client, centre):
    _, counsellor, _, case = centre
    visit = outreach.plan_visit(
        counsellor, case, planned_start=timezone.now(), workers=[counsellor]
    )
    client.force_login(counsellor)
    before = views_of(str(visit.pk))
    assert client.get(reverse("outreach:visit_detail", kwargs={"pk": visit.pk})).status_code == 200
    assert views_of(str(visit.pk)) == before + 1


def test_the_api_referral_detail_is_an_audited_read(client, centre):
    _, counsellor, _, case = centre
    town = make_organisation(Organisation.Kind.MUNICIPALITY, name="町")
    referral = referral_services.create_referral(
        counsellor, case, to_organisation=town, kind="residence", purpose="紹介"
    )
    raw = ApiToken.issue(counsellor, name="t", days=1)[1]
    response = client.get(
        reverse("api:referral_detail", kwargs={"pk": referral.pk}),
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 200
    assert views_of(str(referral.pk)) == 1


def test_the_cross_organisation_duplicate_notice_is_audited(client, centre):
    elsewhere = make_organisation(name="他センター")
    other = make_user(Role.SUPERVISOR, organisation=elsewhere)
    client.force_login(other)
    client.post(
        reverse("casework:case_new"),
        {
            "name": "監査 花子",
            "name_kana": "カンサ ハナコ",
            "birth_date": "1990-01-02",
            "opened_on": "2026-04-01",
            "gender": "unknown",
            "withdrawal_band": "unknown",
        },
    )
    event = Event.objects.get(action=Action.VIEW, object_ref="duplicate_check")
    assert event.actor_id == other.pk and event.detail == {"duplicates_elsewhere": 1}


def test_a_key_destroyed_by_another_process_stops_working_here_at_once(client, centre):
    _, counsellor, _, case = centre
    client.force_login(counsellor)
    detail = reverse("casework:case_detail", kwargs={"code": case.code})
    assert "概要の本文" in client.get(detail).content.decode()  # the key is cached here now
    assert crypto.cipher_cache.get(case.data_key_id.hex) is not None
    # Another process destroys it: the row changes, this process's cache is not told.
    DataKey.objects.filter(pk=case.data_key_id).update(
        wrapped=None, kek_id="", destroyed_at=timezone.now()
    )
    page = client.get(detail).content.decode()
    assert "概要の本文" not in page and "消去済み" in page
    # And nothing can be written under it.
    response = client.post(
        reverse("casework:contact_new"),
        {
            "case_code": case.code,
            "channel": "phone",
            "consulter": "self",
            "kind": "continuing",
            "minutes": 10,
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "summary": "消去後の記録",
        },
    )
    assert response.status_code in (200, 400)
    assert case.contacts.count() == 0


def test_the_api_refuses_a_summary_longer_than_the_screen_accepts(client, centre):
    _, counsellor, _, case = centre
    raw = ApiToken.issue(counsellor, name="t", days=1)[1]
    response = client.post(
        reverse("api:contact_create"),
        {"case": case.code, "channel": "phone", "summary": "あ" * (SUMMARY_MAX + 1)},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 400 and "summary" in response.json()
    assert case.contacts.count() == 0
