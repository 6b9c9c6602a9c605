"""Meetings: the pack's selection rules, MDT access while a review is open, 実 vs 延べ."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from casework import services as casework
from casework.models import Case, Contact, Milestone
from casework.selectors import visible_cases
from meetings import selectors, services
from meetings.models import Meeting
from meetings.pack import build_pack
from tests.factories import make_organisation, make_user

pytestmark = pytest.mark.django_db
TZ = timezone.get_current_timezone()
CANARY_NAME = "会議 漏洩チェック"


def at(day: datetime.date, hour: int = 14) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=TZ)


@pytest.fixture
def centre(db):
    org = make_organisation(name="センター")
    return SimpleNamespace(
        org=org,
        supervisor=make_user(Role.SUPERVISOR, organisation=org, username="sv"),
        counsellor=make_user(Role.COUNSELLOR, organisation=org, username="co"),
        mdt=make_user(Role.MDT_MEMBER, organisation=org, username="psy"),
    )


def case(
    c, *, opened: datetime.date, last_contact: datetime.datetime | None = None, **fields
) -> Case:
    made = casework.open_case(
        c.counsellor,
        identity={"name": CANARY_NAME},
        confirm_duplicate=True,
        case_fields={"opened_on": opened, **fields},
    )
    Case.objects.filter(pk=made.pk).update(last_contact_at=last_contact)
    made.refresh_from_db()
    return made


def meeting(c, day, **kwargs) -> Meeting:
    kwargs.setdefault("legal_basis", Meeting.LegalBasis.INTERNAL)
    return services.plan_meeting(
        c.supervisor,
        kind=Meeting.Kind.MDT_MONTHLY,
        held_at=at(day),
        attendees=[c.supervisor, c.mdt],
        **kwargs,
    )


def test_the_pack_selects_by_every_rule_and_shows_history_since_the_last_review(centre):
    previous_day, day = datetime.date(2024, 5, 10), datetime.date(2024, 6, 10)
    recent = at(datetime.date(2024, 6, 1))
    old = case(centre, opened=datetime.date(2023, 1, 1), last_contact=recent)
    previous = meeting(centre, previous_day)
    reviewed = case(centre, opened=datetime.date(2023, 1, 1), last_contact=recent)
    not_due = case(centre, opened=datetime.date(2023, 1, 1), last_contact=recent)
    item = services.add_to_agenda(centre.supervisor, previous, reviewed)
    later_item = services.add_to_agenda(centre.supervisor, previous, not_due)
    services.record_minutes(centre.supervisor, item, next_review_on=datetime.date(2024, 6, 1))
    services.record_minutes(centre.supervisor, later_item, next_review_on=datetime.date(2024, 9, 1))
    services.add_action(
        centre.supervisor,
        item,
        description="家族面談",
        assignee=centre.counsellor,
        due_on=datetime.date(2024, 5, 31),
    )
    flagged = case(
        centre, opened=datetime.date(2023, 1, 1), last_contact=recent, mdt_supported=True
    )
    new = case(centre, opened=datetime.date(2024, 5, 20), last_contact=recent)
    silent = case(
        centre, opened=datetime.date(2023, 1, 1), last_contact=at(datetime.date(2024, 3, 1))
    )
    closed = case(
        centre,
        opened=datetime.date(2024, 5, 20),
        status=Case.Status.CLOSED,
        closed_on=datetime.date(2024, 5, 25),
        closure_reason="goal_reached",
    )
    elsewhere = make_user(Role.COUNSELLOR, organisation=make_organisation())
    casework.open_case(elsewhere, identity={"name": "他組織"}, case_fields={"mdt_supported": True})
    # History: before the last review excluded, after it included.
    Contact.objects.create(
        case=reviewed,
        data_key=reviewed.data_key,
        organisation=centre.org,
        staff=centre.counsellor,
        occurred_at=at(datetime.date(2024, 5, 1)),
        summary="前",
    )
    Contact.objects.create(
        case=reviewed,
        data_key=reviewed.data_key,
        organisation=centre.org,
        staff=centre.counsellor,
        occurred_at=at(datetime.date(2024, 5, 25)),
        summary="後",
    )
    Milestone.objects.create(
        case=reviewed,
        data_key=reviewed.data_key,
        kind="ibasho",
        achieved_on=datetime.date(2024, 5, 30),
        recorded_by=centre.counsellor,
    )

    this = meeting(centre, day)
    services.add_to_agenda(centre.supervisor, this, old)  # added by hand
    pack = build_pack(centre.supervisor, this, no_contact_days=60)

    reasons = {entry.case.code: entry.reasons for entry in pack.cases}
    assert set(reasons) == {old.code, reviewed.code, flagged.code, new.code, silent.code}
    assert closed.code not in reasons and not_due.code not in reasons
    assert reasons[old.code] == []  # on the agenda by hand only
    assert reasons[reviewed.code] == ["期限切れの対応事項 1件", "見直し日が到来"]
    assert reasons[flagged.code] == ["多職種連携チーム支援"]
    assert reasons[new.code] == ["前回会議以降の新規ケース"]
    assert reasons[silent.code] == ["60日以上相談なし"]
    assert pack.cases[0].case == old and pack.cases[0].item is not None  # agenda first
    entry = next(e for e in pack.cases if e.case == reviewed)
    assert [c.summary for c in entry.contacts] == ["後"]
    assert len(entry.milestones) == 1
    assert [a.description for a in pack.open_actions] == ["家族面談"]


def test_the_pack_runs_a_fixed_number_of_queries(centre):
    def count(n):
        for _ in range(n):
            case(centre, opened=datetime.date(2023, 1, 1), mdt_supported=True)
        this = meeting(centre, datetime.date(2024, 6, 10))
        with CaptureQueriesContext(connection) as captured:
            build_pack(centre.supervisor, this)
        return len(captured)

    assert count(3) == count(30)


def test_a_consent_needing_meeting_leaves_out_cases_without_consent_and_says_why(centre):
    without = case(centre, opened=datetime.date(2023, 1, 1), mdt_supported=True)
    with_consent = case(
        centre,
        opened=datetime.date(2023, 1, 1),
        mdt_supported=True,
        sharing_consent_on=datetime.date(2024, 1, 1),
    )
    this = meeting(
        centre, datetime.date(2024, 6, 10), legal_basis=Meeting.LegalBasis.CONSENT_REQUIRED
    )
    pack = build_pack(centre.supervisor, this)
    assert [e.case for e in pack.cases] == [with_consent]
    assert pack.left_out == [(without, "情報共有への同意が記録されていません")]
    with pytest.raises(Exception, match="同意が記録されていません"):
        services.add_to_agenda(centre.supervisor, this, without)


def test_the_printable_pack_contains_no_identity(client, centre):
    subject = case(centre, opened=datetime.date(2023, 1, 1), mdt_supported=True)
    casework.log_contact(centre.counsellor, case=subject, summary="面談した")
    this = meeting(centre, timezone.localdate() + datetime.timedelta(days=5))
    services.add_to_agenda(centre.supervisor, this, subject)
    client.force_login(centre.supervisor)
    page = client.get(reverse("meetings:print", kwargs={"pk": this.pk})).content.decode()
    assert subject.code in page and "面談した" in page
    assert CANARY_NAME not in page and "会議" in page


def test_an_mdt_member_sees_an_agenda_case_only_until_its_review_closes(client, centre):
    subject = case(centre, opened=datetime.date(2023, 1, 1))
    assert subject not in visible_cases(centre.mdt)
    this = meeting(centre, timezone.localdate())
    item = services.add_to_agenda(centre.supervisor, this, subject)
    mdt = type(centre.mdt).objects.get(pk=centre.mdt.pk)
    assert subject in visible_cases(mdt)
    client.force_login(mdt)
    assert (
        client.get(reverse("casework:case_detail", kwargs={"code": subject.code})).status_code
        == 200
    )
    services.record_minutes(centre.supervisor, item, decisions="方針決定", close_review=True)
    assert subject not in visible_cases(mdt)
    assert (
        client.get(reverse("casework:case_detail", kwargs={"code": subject.code})).status_code
        == 404
    )


def test_one_case_at_three_mdt_meetings_is_one_distinct_case_and_three_items(centre):
    subject = case(centre, opened=datetime.date(2023, 1, 1))
    for month in (4, 5, 6):
        item = services.add_to_agenda(
            centre.supervisor, meeting(centre, datetime.date(2024, month, 10)), subject
        )
        services.record_minutes(centre.supervisor, item, decisions="継続")
    result = selectors.counts(start=datetime.date(2024, 4, 1), end=datetime.date(2025, 3, 31))
    assert result["mdt_cases_distinct"] == 1
    assert result["mdt_agenda_items"] == 3
    assert result["meetings_by_kind"] == {"mdt_monthly": 3}


def test_municipalities_holding_case_conferences_are_counted_once_each(centre):
    town = make_organisation("municipality")
    for day in (5, 20):
        Meeting.objects.create(
            kind=Meeting.Kind.CASE_CONFERENCE,
            host=town,
            status=Meeting.Status.HELD,
            held_at=at(datetime.date(2024, 6, day)),
            created_by=centre.supervisor,
        )
    result = selectors.counts(start=datetime.date(2024, 4, 1), end=datetime.date(2025, 3, 31))
    assert result["municipalities_with_case_conference"] == 1


def test_decisions_and_actions_are_ciphertext_at_rest_and_actions_reach_the_dashboard(
    client, centre
):
    subject = case(centre, opened=datetime.date(2023, 1, 1))
    this = meeting(centre, timezone.localdate())
    item = services.add_to_agenda(centre.supervisor, this, subject)
    services.record_minutes(centre.supervisor, item, decisions="canary-decision 方針")
    services.add_action(
        centre.supervisor,
        item,
        description="canary-action 電話",
        assignee=centre.counsellor,
        due_on=timezone.localdate() - datetime.timedelta(days=1),
    )
    with connection.cursor() as cursor:
        for table in (
            "meetings_agendaitem",
            "meetings_historicalagendaitem",
            "meetings_actionitem",
        ):
            cursor.execute(f"SELECT * FROM {table}")
            assert "canary-" not in repr(cursor.fetchall()), table
    # The dashboard lists the action by case code, linking to the minutes page, where its
    # text is read (and audited); the text itself is not on the dashboard.
    minutes = reverse("meetings:minutes", kwargs={"pk": item.pk})
    client.force_login(centre.counsellor)
    dashboard = client.get("/").content.decode()
    assert subject.code in dashboard and minutes in dashboard
    assert "canary-action" not in dashboard
    assert "canary-action 電話" in client.get(minutes).content.decode()
    client.force_login(centre.supervisor)
    dashboard = client.get("/").content.decode()
    assert "期限を過ぎた対応事項" in dashboard and subject.code in dashboard


def test_network_attendance_is_counted_by_organisation_type_and_bad_counts_are_refused(
    client, centre
):
    network = services.plan_meeting(
        centre.supervisor,
        kind=Meeting.Kind.NETWORK,
        held_at=at(datetime.date(2024, 7, 1)),
        legal_basis="support_meeting",
    )
    client.force_login(centre.supervisor)
    url = reverse("meetings:external_add", kwargs={"pk": network.pk})
    client.post(url, {"organisation_type": "medical", "profession": "精神科医", "count": "3"})
    client.post(url, {"organisation_type": "medical", "profession": "看護師", "count": "2"})
    client.post(url, {"organisation_type": "npo", "profession": "", "count": "-1"})
    Meeting.objects.filter(pk=network.pk).update(status=Meeting.Status.HELD)
    result = selectors.counts(start=datetime.date(2024, 4, 1), end=datetime.date(2025, 3, 31))
    assert result["network_attendance_by_type"] == {"medical": 5}


def test_closing_a_review_leaves_grants_of_other_origins_alone(centre):
    from django.contrib.auth.models import Permission

    from casework.models import CaseUserObjectPermission

    subject = case(centre, opened=datetime.date(2023, 1, 1))
    liaison = make_user(Role.MUNICIPAL_LIAISON, organisation=make_organisation("municipality"))
    CaseUserObjectPermission.objects.create(
        user=liaison,
        content_object=subject,
        permission=Permission.objects.get(codename="view_case", content_type__app_label="casework"),
    )
    item = services.add_to_agenda(centre.supervisor, meeting(centre, timezone.localdate()), subject)
    services.record_minutes(centre.supervisor, item, decisions="終了", close_review=True)
    assert CaseUserObjectPermission.objects.filter(user=liaison, content_object=subject).exists()
    assert not CaseUserObjectPermission.objects.filter(
        user=centre.mdt, content_object=subject
    ).exists()
