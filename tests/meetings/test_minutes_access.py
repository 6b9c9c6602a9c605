"""Minutes and actions follow the case: the services check it themselves, whoever calls
them; closed and restricted cases stay off the agenda; a closed case ends its reviews."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import Action, Event
from casework import services as casework
from casework.models import Case, CaseUserObjectPermission
from casework.selectors import visible_cases
from meetings import selectors, services
from meetings.models import ActionItem, AgendaItem, Meeting
from meetings.pack import build_pack

pytestmark = pytest.mark.django_db


@pytest.fixture
def centre(world):
    c = SimpleNamespace(org=world.centre, world=world)
    c.supervisor, c.counsellor, c.colleague = world.supervisor, world.counsellor, world.colleague
    c.mdt = world.mdt
    c.case = casework.open_case(c.counsellor, identity={"name": "議事 太郎"})
    c.meeting = services.plan_meeting(
        c.supervisor,
        kind=Meeting.Kind.MDT_MONTHLY,
        held_at=timezone.now(),  # today: minutes may be recorded
        legal_basis=Meeting.LegalBasis.INTERNAL,
        attendees=[c.supervisor, c.counsellor, c.mdt],
    )
    c.item = services.add_to_agenda(c.supervisor, c.meeting, case=c.case)
    return c


def fresh(user):
    """The user as a new request sees them (permission caches empty)."""
    return type(user).objects.get(pk=user.pk)


def grant_exists(user, case: Case) -> bool:
    return CaseUserObjectPermission.objects.filter(user=user, content_object=case).exists()


def test_the_minutes_services_refuse_a_writer_who_neither_attends_nor_supervises(centre):
    with pytest.raises(PermissionDenied):
        services.record_minutes(centre.colleague, centre.item, decisions="上書き")
    with pytest.raises(PermissionDenied):
        services.add_action(
            centre.colleague,
            centre.item,
            description="対応",
            assignee=centre.colleague,
            due_on=timezone.localdate(),
        )
    assert AgendaItem.objects.get(pk=centre.item.pk).decisions is None
    assert not ActionItem.objects.exists()


def test_an_attending_counsellor_records_minutes_and_an_action(centre):
    services.record_minutes(centre.counsellor, centre.item, decisions="継続", close_review=False)
    services.add_action(
        centre.counsellor,
        centre.item,
        description="家族へ連絡",
        assignee=centre.colleague,
        due_on=timezone.localdate(),
    )
    assert AgendaItem.objects.get(pk=centre.item.pk).decisions == "継続"
    assert ActionItem.objects.get().assignee == centre.colleague


def test_an_action_cannot_go_to_someone_who_cannot_read_the_cases_minutes(centre):
    outsider_mdt = centre.world.user(Role.MDT_MEMBER)  # attends nothing
    with pytest.raises(ValidationError) as refused:
        services.add_action(
            centre.supervisor,
            centre.item,
            description="受診の調整",
            assignee=outsider_mdt,
            due_on=timezone.localdate(),
        )
    assert "action_assignee" in refused.value.message_dict
    assert not ActionItem.objects.exists()


def test_a_refused_action_on_the_minutes_page_keeps_the_minutes_unchanged(client, centre):
    outsider_mdt = centre.world.user(Role.MDT_MEMBER, username="no-grant")
    client.force_login(centre.supervisor)
    response = client.post(
        reverse("meetings:minutes", kwargs={"pk": centre.item.pk}),
        {
            "decisions": "変更",
            "close_review": "on",
            "action_description": "受診の調整",
            "action_assignee": outsider_mdt.pk,
            "action_due_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 200
    assert "議事を閲覧できる職員" in response.content.decode()
    item = AgendaItem.objects.get(pk=centre.item.pk)
    assert item.decisions is None and item.review_closed_at is None
    assert grant_exists(centre.mdt, centre.case)


def test_a_reader_who_may_not_write_gets_the_minutes_without_a_form(client, centre):
    services.record_minutes(centre.supervisor, centre.item, decisions="方針", close_review=False)
    client.force_login(centre.colleague)
    page = client.get(reverse("meetings:minutes", kwargs={"pk": centre.item.pk}))
    text = page.content.decode()
    assert page.status_code == 200 and "方針" in text
    assert 'name="decisions"' not in text


def test_only_the_host_can_complete_an_action_and_only_while_it_sees_the_case(centre):
    action = services.add_action(
        centre.supervisor,
        centre.item,
        description="対応",
        assignee=centre.colleague,
        due_on=timezone.localdate(),
    )
    other_supervisor = centre.world.other_supervisor
    with pytest.raises(PermissionDenied):
        services.complete_action(other_supervisor, action)
    case = Case.objects.get(pk=centre.case.pk)
    casework.update_case(
        centre.supervisor, case, expected_version=case.version, changes={"restricted": True}
    )
    colleague = fresh(centre.colleague)  # no lead worker of the now restricted case
    with pytest.raises(PermissionDenied):
        services.complete_action(colleague, action)
    assert list(selectors.my_open_actions(colleague)) == []
    assert ActionItem.objects.get(pk=action.pk).done_at is None
    services.complete_action(fresh(centre.supervisor), action)
    assert ActionItem.objects.get(pk=action.pk).done_at is not None


def test_dropping_an_item_needs_write_access_to_its_case(centre):
    case = Case.objects.get(pk=centre.case.pk)
    casework.update_case(
        centre.supervisor, case, expected_version=case.version, changes={"restricted": True}
    )
    with pytest.raises(PermissionDenied):
        services.drop_from_agenda(fresh(centre.colleague), centre.item)
    assert AgendaItem.objects.filter(pk=centre.item.pk).exists()


def test_closing_the_case_ends_its_reviews_grants_and_is_audited(centre):
    assert grant_exists(centre.mdt, centre.case)
    case = Case.objects.get(pk=centre.case.pk)
    casework.close_case(centre.counsellor, case, expected_version=case.version, reason="wish")
    assert AgendaItem.objects.get(pk=centre.item.pk).review_closed_at is not None
    assert not grant_exists(centre.mdt, centre.case)
    assert centre.case not in visible_cases(fresh(centre.mdt))
    event = Event.objects.filter(action=Action.UPDATE, object_type="meetings.AgendaItem").last()
    expected = {"case": centre.case.code, "review_closed": True, "reason": "case_closed"}
    assert event.detail == expected


def test_merging_a_case_away_ends_the_absorbed_cases_reviews(centre):
    keep = casework.open_case(centre.counsellor, identity={"name": "統合先"})
    casework.merge_cases(centre.supervisor, keep, absorbed=Case.objects.get(pk=centre.case.pk))
    assert AgendaItem.objects.get(pk=centre.item.pk).review_closed_at is not None
    assert not grant_exists(centre.mdt, centre.case)
    event = Event.objects.filter(action=Action.UPDATE, object_type="meetings.AgendaItem").last()
    assert event.detail["reason"] == "case_merged"


def test_a_sync_gives_no_grant_on_a_closed_case_even_with_its_review_open(centre):
    # A case closed by a path that did not end its reviews (here: a raw update).
    Case.objects.filter(pk=centre.case.pk).update(
        status=Case.Status.CLOSED, closed_on=timezone.localdate(), closure_reason="other"
    )
    services.sync_grants(centre.meeting)
    assert not grant_exists(centre.mdt, centre.case)


def test_the_services_refuse_closed_and_restricted_cases_on_an_agenda(centre):
    other = services.plan_meeting(
        centre.supervisor,
        kind=Meeting.Kind.CASE_CONFERENCE,
        held_at=timezone.now() + datetime.timedelta(days=9),
        legal_basis=Meeting.LegalBasis.INTERNAL,
    )
    closed = casework.open_case(centre.counsellor, identity={"name": "終結"})
    casework.close_case(centre.counsellor, closed, expected_version=closed.version, reason="wish")
    restricted = casework.open_case(
        centre.counsellor, identity={"name": "制限"}, case_fields={"restricted": True}
    )
    with pytest.raises(ValidationError, match="終結"):
        services.add_to_agenda(centre.supervisor, other, case=Case.objects.get(pk=closed.pk))
    with pytest.raises(ValidationError, match="閲覧制限"):
        services.add_to_agenda(centre.supervisor, other, case=restricted)
    assert not other.items.exists()


def test_the_pack_keeps_a_closed_agenda_case_and_leaves_out_restricted_candidates(centre):
    restricted = casework.open_case(
        centre.counsellor,
        identity={"name": "制限"},
        case_fields={"restricted": True, "mdt_supported": True},
    )
    case = Case.objects.get(pk=centre.case.pk)
    casework.close_case(centre.counsellor, case, expected_version=case.version, reason="wish")
    pack = build_pack(centre.supervisor, centre.meeting)
    assert [(e.case, e.item) for e in pack.cases if e.item] == [(case, centre.item)]
    assert [c for c, _why in pack.left_out] == [restricted]
    assert "閲覧制限" in pack.left_out[0][1]
