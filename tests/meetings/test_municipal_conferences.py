"""Municipal case conferences (issue 19, point 6): a municipality's liaison hosts them,
records the attending agencies, discusses the referred cases its organisation holds a
consented referral grant on, or residents not in the system as a count; either way the
conference counts in the plan indicator "municipalities holding case conferences".

Everything through the pages, with the forms as they are rendered (tests/html_forms.py).
"""

from __future__ import annotations

import datetime
import io
import time
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation, User
from accounts.reauth import StepUp
from accounts.roles import Role
from audit.models import Action, Event
from casework import services as casework
from casework.models import Case, CaseUserObjectPermission
from indicators import metrics
from indicators.models import Direction, Indicator, Plan
from indicators.periods import Period, fiscal_year
from indicators.reports import progress_report
from meetings import services
from meetings.models import AgendaItem, ExternalAttendance, Meeting
from referrals import services as referrals
from referrals.models import Referral
from tests.factories import make_case
from tests.html_forms import form_posting_to, post_forms, submit

pytestmark = pytest.mark.django_db
TZ = timezone.get_current_timezone()
S = Referral.Status
CONSENT: referrals.Consent = {
    "consent_given": True,
    "consent_on": datetime.date(2024, 5, 1),
    "consent_method": "written",
}
# Case content the liaison's consented scope (basic profile only) does not include.
SUMMARY, CONTACT, CENTRE_DECISION = "概要カナリア", "相談カナリア", "センター決定カナリア"
NAME = "紹介 太郎"


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=TZ)


def yesterday() -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=1)


@pytest.fixture
def town(world):
    """The centre's counsellor refers a case to the town (accepted by its liaison); the
    village next door has a liaison of its own."""
    centre, municipality, neighbour = world.centre, world.town, world.village
    counsellor, liaison = world.counsellor, world.liaison
    neighbour_liaison = world.user(Role.MUNICIPAL_LIAISON, organisation=neighbour)

    def open_case(name: str) -> Case:
        case = casework.open_case(
            counsellor,
            identity={"name": name},
            case_fields={"summary": SUMMARY},
            confirm_duplicate=True,
        )
        casework.log_contact(counsellor, case=case, summary=CONTACT)
        return case

    def refer(case: Case, to: Organisation, receiver: User, states=(S.SENT, S.ACCEPTED)):
        referral = referrals.create_referral(
            counsellor,
            case,
            to_organisation=to,
            kind=Referral.Kind.RESIDENCE_MUNICIPALITY,
            purpose="居住地での支援",
            consent=CONSENT,
            scopes={"share_basic_profile": True},
        )
        for state in states:
            side = counsellor if state == S.SENT else receiver
            referral = referrals.move(side, referral, to_status=state)
        return referral

    referred = open_case(NAME)
    referral = refer(referred, municipality, liaison)
    return SimpleNamespace(
        world=world,
        centre=centre,
        municipality=municipality,
        neighbour=neighbour,
        counsellor=counsellor,
        liaison=liaison,
        neighbour_liaison=neighbour_liaison,
        open_case=open_case,
        refer=refer,
        referred=referred,
        referral=referral,
    )


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def plan_conference_through_the_page(client, day: datetime.date) -> Meeting:
    url = reverse("meetings:new")
    form = form_posting_to(page(client, url), url, url)
    response = submit(
        client,
        form,
        url,
        {
            "kind": Meeting.Kind.CASE_CONFERENCE,
            "held_at": at(day).strftime("%Y-%m-%dT%H:%M"),
            "legal_basis": Meeting.LegalBasis.SUPPORT_MEETING,
            "place": "町役場",
        },
    )
    assert response.status_code == 302, response.content.decode()
    return Meeting.objects.latest("created_at")


def submit_on_meeting_page(client, meeting: Meeting, view: str, changes: dict):
    url = reverse("meetings:detail", kwargs={"pk": meeting.pk})
    target = reverse(view, kwargs={"pk": meeting.pk})
    return submit(client, form_posting_to(page(client, url), url, target), url, changes)


def conference_figure(day: datetime.date) -> int:
    cell = metrics.Cell.of("case_conference_municipalities", {}, Period(day, day))
    return metrics.evaluate([cell], metrics.Scope())[cell]


def test_a_liaison_holds_a_conference_with_agencies_and_an_unregistered_count_and_it_counts(
    client, town
):
    client.force_login(town.liaison)
    day = yesterday()
    conference = plan_conference_through_the_page(client, day)
    assert conference.host == town.municipality
    assert list(conference.attendees.all()) == [town.liaison]
    assert conference.status == Meeting.Status.PLANNED

    for org_type, profession, count in (("welfare", "社会福祉士", 2), ("medical", "保健師", 1)):
        response = submit_on_meeting_page(
            client,
            conference,
            "meetings:external_add",
            {"organisation_type": org_type, "profession": profession, "count": str(count)},
        )
        assert response.status_code == 302
    assert conference_figure(day) == 0  # agencies attending do not make it held

    response = submit_on_meeting_page(
        client, conference, "meetings:unregistered_cases", {"count": "3"}
    )
    assert response.status_code == 302
    conference.refresh_from_db()
    assert conference.status == Meeting.Status.HELD
    assert conference.unregistered_cases_discussed == 3
    assert sorted(conference.external_attendance.values_list("organisation_type", "count")) == [
        ("medical", 1),
        ("welfare", 2),
    ]
    shown = page(client, reverse("meetings:detail", kwargs={"pk": conference.pk}))
    assert "3件を検討しました。" in shown
    event = Event.objects.filter(action=Action.UPDATE, object_ref=str(conference.pk)).latest("id")
    assert event.detail["unregistered_cases"] == 3

    # The indicator, evaluated as the progress report does, counts the municipality.
    assert conference_figure(day) == 1
    year = fiscal_year(day)
    plan = Plan.objects.create(
        name="計画", organisation=town.centre, first_year=year, last_year=year
    )
    direction = Direction.objects.create(plan=plan, number=1, name="体制")
    Indicator.objects.create(
        direction=direction,
        code="1-2",
        name="ケース会議を実施した市町村数",
        unit="市町村",
        metric="case_conference_municipalities",
    )
    report = progress_report(plan, year=year, exact=True)
    (row,) = report.rows
    assert row.actual.value == Decimal(1)


def test_the_count_is_refused_before_the_day_at_other_meetings_and_below_one(client, town):
    client.force_login(town.liaison)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    conference = plan_conference_through_the_page(client, tomorrow)
    response = submit_on_meeting_page(
        client, conference, "meetings:unregistered_cases", {"count": "2"}
    )
    assert response.status_code == 200
    assert "議事は会議の当日以降に記録してください。" in response.content.decode()
    response = submit_on_meeting_page(
        client, conference, "meetings:unregistered_cases", {"count": "0"}
    )
    assert response.status_code == 200
    conference.refresh_from_db()
    assert (conference.status, conference.unregistered_cases_discussed) == ("planned", 0)
    assert conference_figure(tomorrow) == 0

    network = services.plan_meeting(
        town.liaison, kind=Meeting.Kind.NETWORK, held_at=at(yesterday()), legal_basis="internal"
    )
    with pytest.raises(ValidationError):
        services.record_unregistered_cases(town.liaison, network, count=2)
    response = client.post(
        reverse("meetings:unregistered_cases", kwargs={"pk": network.pk}), {"count": "2"}
    )
    assert response.status_code == 200
    network.refresh_from_db()
    assert network.status == Meeting.Status.PLANNED
    # Another organisation's meeting is not there for the liaison.
    other = services.plan_meeting(
        town.neighbour_liaison,
        kind=Meeting.Kind.CASE_CONFERENCE,
        held_at=at(yesterday()),
        legal_basis="support_meeting",
    )
    response = client.post(
        reverse("meetings:unregistered_cases", kwargs={"pk": other.pk}), {"count": "2"}
    )
    assert response.status_code == 404
    with pytest.raises(PermissionDenied):
        services.record_unregistered_cases(town.liaison, other, count=2)


def test_a_referred_case_goes_on_the_agenda_its_minutes_hold_the_conference(client, town):
    client.force_login(town.liaison)
    day = yesterday()
    conference = plan_conference_through_the_page(client, day)
    detail = reverse("meetings:detail", kwargs={"pk": conference.pk})
    add = reverse("meetings:agenda_add", kwargs={"pk": conference.pk})
    form = next(f for f in post_forms(page(client, detail)) if f.url(detail).endswith(add))
    response = submit(client, form, detail, {"code": town.referred.code})
    assert response.status_code == 302
    item = AgendaItem.objects.get(meeting=conference)
    assert item.case == town.referred
    # An MDT member of the municipality attending gets no grant on the centre's case.
    town_mdt = town.world.user(Role.MDT_MEMBER, organisation=town.municipality)
    services.set_attendees(town.liaison, conference, attendees=[town.liaison, town_mdt])
    assert not CaseUserObjectPermission.objects.filter(content_object=town.referred).exists()
    shown = page(client, detail)
    assert town.referred.code in shown

    minutes = reverse("meetings:minutes", kwargs={"pk": item.pk})
    form = form_posting_to(page(client, minutes), minutes, minutes)
    # The referring centre plans the case: no review date, MDT support or actions here.
    assert {c.name for c in form.entry_fields} == {"discussion", "decisions", "close_review"}
    response = submit(
        client, form, minutes, {"discussion": "町の支援を検討", "decisions": "保健師が訪問"}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.decisions == "保健師が訪問"
    conference.refresh_from_db()
    assert conference.status == Meeting.Status.HELD
    assert conference_figure(day) == 1
    # A forged planning field is not taken, and the service refuses it outright.
    client.post(minutes, {"decisions": "x", "take_on_mdt": "on", "next_review_on": "2030-01-01"})
    town.referred.refresh_from_db()
    assert not town.referred.mdt_supported
    with pytest.raises(ValidationError):
        services.record_minutes(town.liaison, item, take_on_mdt=True)
    # No grant on the case came with it: the case itself stays closed to the liaison.
    assert not CaseUserObjectPermission.objects.filter(content_object=town.referred).exists()
    case_page = reverse("casework:case_detail", kwargs={"code": town.referred.code})
    assert client.get(case_page).status_code in (403, 404)


@pytest.mark.parametrize(
    "outside",
    [
        "not_referred",
        "only_sent",
        "completed",
        "consent_withdrawn",
        "restricted",
        "referred_to_the_neighbour",
        "the_neighbours_own_case",
    ],
)
def test_a_liaison_cannot_put_a_case_outside_its_referral_scope_on_the_agenda(
    client, town, outside
):
    if outside == "not_referred":
        case = town.open_case("紹介なし")
    elif outside == "only_sent":
        case = town.open_case("送付のみ")
        town.refer(case, town.municipality, town.liaison, states=(S.SENT,))
    elif outside == "completed":
        case = town.open_case("完了")
        town.refer(case, town.municipality, town.liaison, states=(S.SENT, S.ACCEPTED, S.COMPLETED))
    elif outside == "consent_withdrawn":
        case = town.open_case("撤回")
        referrals.withdraw_consent(
            town.counsellor,
            town.refer(case, town.municipality, town.liaison),
            step_up=StepUp(time.time()),
        )
    elif outside == "restricted":
        case = town.open_case("制限")
        town.refer(case, town.municipality, town.liaison)
        Case.objects.filter(pk=case.pk).update(restricted=True)
    elif outside == "referred_to_the_neighbour":
        case = town.open_case("隣村へ")
        town.refer(case, town.neighbour, town.neighbour_liaison)
    else:
        case = make_case(town.neighbour)
    case.refresh_from_db()
    conference = services.plan_meeting(
        town.liaison,
        kind=Meeting.Kind.CASE_CONFERENCE,
        held_at=at(timezone.localdate()),
        legal_basis="support_meeting",
    )
    client.force_login(town.liaison)
    response = client.post(
        reverse("meetings:agenda_add", kwargs={"pk": conference.pk}), {"code": case.code}
    )
    assert response.status_code == 302
    assert "このケースコードは見つかりません。" in page(client, response["Location"])
    assert not conference.items.exists()
    with pytest.raises((PermissionDenied, ValidationError)):
        services.add_to_agenda(town.liaison, conference, case=case)
    assert not conference.items.exists()


def test_the_referral_path_opens_only_case_conferences_of_the_liaisons_organisation(town):
    monthly = services.plan_meeting(
        town.liaison,
        kind=Meeting.Kind.MDT_MONTHLY,
        held_at=at(timezone.localdate()),
        legal_basis="support_meeting",
    )
    with pytest.raises(PermissionDenied):
        services.add_to_agenda(town.liaison, monthly, case=town.referred)
    neighbours = services.plan_meeting(
        town.neighbour_liaison,
        kind=Meeting.Kind.CASE_CONFERENCE,
        held_at=at(timezone.localdate()),
        legal_basis="support_meeting",
    )
    with pytest.raises(PermissionDenied):
        services.add_to_agenda(town.liaison, neighbours, case=town.referred)
    with pytest.raises(PermissionDenied):
        services.add_to_agenda(town.neighbour_liaison, neighbours, case=town.referred)


def test_the_liaison_reads_no_case_content_beyond_its_scope_through_the_meeting(client, town):
    # The centre's own MDT meeting discussed the case first.
    supervisor = town.world.supervisor
    monthly = services.plan_meeting(
        supervisor, kind="mdt_monthly", held_at=at(yesterday()), legal_basis="internal"
    )
    centre_item = services.add_to_agenda(supervisor, monthly, case=town.referred)
    services.record_minutes(supervisor, centre_item, decisions=CENTRE_DECISION, close_review=False)

    conference = services.plan_meeting(
        town.liaison,
        kind=Meeting.Kind.CASE_CONFERENCE,
        held_at=at(yesterday()),
        legal_basis="support_meeting",
    )
    item = services.add_to_agenda(town.liaison, conference, case=town.referred)
    services.record_minutes(town.liaison, item, decisions="町の決定")
    client.force_login(town.liaison)
    pages = [
        reverse("meetings:list"),
        reverse("meetings:detail", kwargs={"pk": conference.pk}),
        reverse("meetings:print", kwargs={"pk": conference.pk}),
        reverse("meetings:minutes", kwargs={"pk": item.pk}),
        reverse("home"),
    ]
    seen = "".join(page(client, url) for url in pages)
    assert "町の決定" in seen and town.referred.code in seen
    for secret in (NAME, SUMMARY, CONTACT, CENTRE_DECISION):
        assert secret not in seen, secret
    # The centre's minutes of the same case, and the case itself, stay closed.
    assert client.get(reverse("meetings:minutes", kwargs={"pk": centre_item.pk})).status_code == 404
    for name in ("casework:case_detail", "casework:case_edit"):
        response = client.get(reverse(name, kwargs={"code": town.referred.code}))
        assert response.status_code in (403, 404)
    assert not CaseUserObjectPermission.objects.filter(user=town.liaison).exists()

    # When the referral ends, so does the way to the item: its minutes are no longer shown.
    referrals.move(town.liaison, town.referral, to_status=S.COMPLETED)
    assert client.get(reverse("meetings:minutes", kwargs={"pk": item.pk})).status_code == 404
    detail = page(client, reverse("meetings:detail", kwargs={"pk": conference.pk}))
    assert "町の決定" not in detail


def test_the_demo_records_municipal_conferences_through_the_services_and_they_count():
    call_command("seed_demo", stdout=io.StringIO())
    liaison = User.objects.get(username="liaison")
    conferences = Meeting.objects.filter(
        kind=Meeting.Kind.CASE_CONFERENCE, host__kind=Organisation.Kind.MUNICIPALITY
    )
    assert conferences.exists()
    for conference in conferences:
        assert conference.created_by == liaison
        assert conference.host_id == liaison.organisation_id
        assert conference.status == Meeting.Status.HELD
        assert conference.unregistered_cases_discussed > 0
        assert ExternalAttendance.objects.filter(meeting=conference).exists()
        # Recorded by the service, which audits the count (a database write would not).
        assert Event.objects.filter(
            action=Action.UPDATE,
            object_ref=str(conference.pk),
            detail__unregistered_cases=conference.unregistered_cases_discussed,
        ).exists()
    first = min(timezone.localtime(c.held_at).date() for c in conferences)
    cell = metrics.Cell.of(
        "case_conference_municipalities", {}, Period(first, timezone.localdate())
    )
    assert metrics.evaluate([cell], metrics.Scope())[cell] == 1


def test_a_municipal_conferences_decisions_never_reach_another_receiving_organisation(client, town):
    """A conference a municipality hosted about a referred case is that municipality's to
    share: the centre's "meeting decisions" share to a second municipality carries the
    centre's own meetings only, and its audit event names the items it showed."""
    # The centre's own meeting decided something about the case.
    supervisor = town.world.supervisor
    mdt = services.plan_meeting(
        supervisor, kind=Meeting.Kind.MDT_MONTHLY, held_at=at(yesterday()), legal_basis="internal"
    )
    centre_item = services.add_to_agenda(supervisor, mdt, case=town.referred)
    services.record_minutes(supervisor, centre_item, decisions=CENTRE_DECISION)
    # The municipality's conference about the same case.
    conference = services.plan_meeting(
        town.liaison,
        kind=Meeting.Kind.CASE_CONFERENCE,
        held_at=at(yesterday()),
        legal_basis=Meeting.LegalBasis.SUPPORT_MEETING,
    )
    town_item = services.add_to_agenda(town.liaison, conference, case=town.referred)
    services.record_minutes(town.liaison, town_item, decisions="町の会議カナリア")
    # The centre refers the case to the neighbour too, sharing meeting decisions.
    shared = referrals.create_referral(
        town.counsellor,
        town.referred,
        to_organisation=town.neighbour,
        kind=Referral.Kind.RESIDENCE_MUNICIPALITY,
        purpose="転居先での支援",
        consent=CONSENT,
        scopes={"share_basic_profile": True, "share_meeting_decisions": True},
    )
    shared = referrals.move(town.counsellor, shared, to_status=S.SENT)
    shared = referrals.move(town.neighbour_liaison, shared, to_status=S.ACCEPTED)
    client.force_login(town.neighbour_liaison)
    body = page(client, reverse("referrals:shared", kwargs={"pk": shared.pk}))
    assert CENTRE_DECISION in body
    assert "町の会議カナリア" not in body
    event = Event.objects.filter(action=Action.VIEW, object_ref=str(shared.pk)).latest("pk")
    assert event.detail["minutes"] == [str(centre_item.pk)]


def test_the_liaison_finds_its_referred_cases_on_the_conference_page_and_in_the_print(client, town):
    """The liaison never sees a case code elsewhere: the conference page offers the cases
    of its referral scope to add, and the print lists them on the agenda page, with the
    count of residents not in the system, and says nothing is hidden."""
    outside = town.open_case("範囲外 次郎")  # never referred: never offered
    client.force_login(town.liaison)
    conference = plan_conference_through_the_page(client, yesterday())
    detail = reverse("meetings:detail", kwargs={"pk": conference.pk})
    add = reverse("meetings:agenda_add", kwargs={"pk": conference.pk})
    body = page(client, detail)
    assert outside.code not in body
    offered = [
        f
        for f in post_forms(body)
        if f.url(detail).endswith(add) and f.hidden.get("code") == town.referred.code
    ]
    assert len(offered) == 1
    assert submit(client, offered[0], detail).status_code == 302
    assert AgendaItem.objects.filter(meeting=conference, case=town.referred).exists()
    body = page(client, detail)
    assert "閲覧できないケースのため" not in body
    submit_on_meeting_page(client, conference, "meetings:unregistered_cases", {"count": "3"})
    printed = page(client, reverse("meetings:print", kwargs={"pk": conference.pk}))
    assert town.referred.code in printed and "3件を検討" in printed
    assert "閲覧できないケースのため" not in printed
    assert NAME not in printed and SUMMARY not in printed


def test_minutes_that_record_nothing_do_not_hold_the_conference(client, town):
    client.force_login(town.liaison)
    day = yesterday()
    conference = plan_conference_through_the_page(client, day)
    item = services.add_to_agenda(town.liaison, conference, case=town.referred)
    minutes = reverse("meetings:minutes", kwargs={"pk": item.pk})
    form = form_posting_to(page(client, minutes), minutes, minutes)
    assert submit(client, form, minutes).status_code == 302  # pressed with nothing typed
    conference.refresh_from_db()
    assert conference.status == Meeting.Status.PLANNED
    assert conference_figure(day) == 0
    form = form_posting_to(page(client, minutes), minutes, minutes)
    assert submit(client, form, minutes, {"decisions": "保健師が訪問"}).status_code == 302
    conference.refresh_from_db()
    assert conference.status == Meeting.Status.HELD
    assert conference_figure(day) == 1


def test_a_liaisons_new_meeting_starts_as_a_case_conference_held_as_a_support_meeting(client, town):
    url = reverse("meetings:new")
    client.force_login(town.liaison)
    form = form_posting_to(page(client, url), url, url)
    when = at(yesterday()).strftime("%Y-%m-%dT%H:%M")
    assert submit(client, form, url, {"held_at": when}).status_code == 302
    meeting = Meeting.objects.latest("created_at")
    assert meeting.kind == Meeting.Kind.CASE_CONFERENCE
    assert meeting.legal_basis == Meeting.LegalBasis.SUPPORT_MEETING
    # A centre's staff start from their monthly MDT meeting, inside the organisation.
    client.force_login(town.counsellor)
    form = form_posting_to(page(client, url), url, url)
    assert submit(client, form, url, {"held_at": when}).status_code == 302
    meeting = Meeting.objects.latest("created_at")
    assert meeting.kind == Meeting.Kind.MDT_MONTHLY
    assert meeting.legal_basis == Meeting.LegalBasis.INTERNAL
