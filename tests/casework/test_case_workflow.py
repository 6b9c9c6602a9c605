"""Opening, duplicate detection, closing, merging: the services a counsellor relies on."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from audit.models import Action, Event
from casework import services
from casework.models import Case, Contact, Milestone
from casework.selectors import find_duplicates

pytestmark = pytest.mark.django_db

KANA = "ヤマダ ハナコ"
BORN = datetime.date(1990, 4, 1)


def test_opening_a_case_creates_client_case_and_an_audit_event(world):
    case = services.open_case(
        world.counsellor,
        identity={"name": "山田 花子", "name_kana": KANA, "birth_date": BORN},
        case_fields={"withdrawal_band": Case.WithdrawalBand.UNDER_3Y},
    )
    assert case.client.birth_year == 1990
    # Own keys: erasing one support episode must not erase the person or other episodes.
    assert case.data_key_id != case.client.data_key_id
    assert list(case.lead_workers.all()) == [world.counsellor]
    event = Event.objects.get(action=Action.CREATE, object_ref=case.code)
    assert event.detail == {"client": case.client.code}


def test_a_possible_duplicate_in_the_organisation_stops_until_confirmed(world):
    first = services.open_case(world.counsellor, identity={"name_kana": KANA, "birth_date": BORN})
    with pytest.raises(services.DuplicateSuspected) as suspected:
        services.open_case(
            world.colleague, identity={"name_kana": "やまだ はなこ", "birth_date": BORN}
        )
    assert suspected.value.cases == [first]
    assert Case.objects.count() == 1
    second = services.open_case(
        world.colleague, identity={"name_kana": KANA, "birth_date": BORN}, confirm_duplicate=True
    )
    assert Case.objects.count() == 2 and second != first


def test_across_organisations_only_a_supervisor_learns_the_other_organisations_name(world):
    services.open_case(world.other_counsellor, identity={"phone": "090-1111-2222"})
    counsellor_view = find_duplicates(world.counsellor, phone="09011112222")
    assert counsellor_view.same_organisation == [] and counsellor_view.other_organisations == []
    supervisor_view = find_duplicates(world.supervisor, phone="090 1111 2222")
    assert supervisor_view.same_organisation == []
    assert supervisor_view.other_organisations == [world.other.name]


def test_the_new_case_screen_shows_the_duplicate_and_saves_nothing(client, world):
    existing = services.open_case(world.counsellor, identity={"phone": "0598-00-0000"})
    client.force_login(world.colleague)
    response = client.post(
        reverse("casework:case_new"),
        {
            "phone": "0598000000",
            "opened_on": "2024-05-01",
            "gender": "unknown",
            "withdrawal_band": "unknown",
        },
    )
    assert response.status_code == 200
    assert existing.code in response.content.decode()
    assert Case.objects.count() == 1


def test_closing_needs_a_reason_and_records_it(world):
    case = services.open_case(world.counsellor, identity={"name": "終結 試験"})
    with pytest.raises(ValidationError):
        services.close_case(world.counsellor, case, expected_version=case.version, reason="")
    closed = services.close_case(
        world.counsellor,
        case,
        expected_version=case.version,
        reason=Case.ClosureReason.GOAL_REACHED,
    )
    assert closed.status == Case.Status.CLOSED and closed.closed_on is not None


def test_merging_moves_contacts_and_milestones_and_keeps_them_readable(world):
    keep = services.open_case(world.counsellor, identity={"name": "統合 先"})
    dup = services.open_case(
        world.counsellor,
        identity={"name": "統合 元"},
        case_fields={"opened_on": datetime.date(2024, 4, 1)},
        confirm_duplicate=True,
    )
    services.log_contact(world.counsellor, case=dup, summary="重複側の記録")
    services.record_milestone(
        world.counsellor, dup, kind=Milestone.Kind.IBASHO, achieved_on=datetime.date(2024, 6, 1)
    )
    with pytest.raises(PermissionDenied):
        services.merge_cases(world.counsellor, keep, absorbed=dup)  # supervisors merge
    services.merge_cases(world.supervisor, keep, absorbed=dup)
    moved = Contact.objects.get(case=keep)
    assert moved.summary == "重複側の記録"  # still under the absorbed case's key
    assert keep.milestones.count() == 1
    dup.refresh_from_db()
    assert dup.merged_into == keep and dup.closure_reason == Case.ClosureReason.MERGED


def test_identity_reveal_is_audited_and_identity_is_hidden_until_then(client, world):
    case = services.open_case(world.counsellor, identity={"name": "表示 前後", "phone": "0000"})
    client.force_login(world.colleague)
    page = client.get(reverse("casework:case_detail", kwargs={"code": case.code}))
    assert "表示 前後" not in page.content.decode()
    assert page["Cache-Control"].count("no-store") == 1
    revealed = client.post(reverse("casework:identity_reveal", kwargs={"code": case.code}))
    assert "表示 前後" in revealed.content.decode()
    event = Event.objects.get(action=Action.IDENTITY_REVEAL)
    assert event.actor_label == "colleague" and event.object_ref == case.client.code
    assert "表示 前後" not in str(event.detail)
