"""The API endpoints: the same rules and the same figures as the screens."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone
from guardian.shortcuts import get_perms

from accounts.models import organisation_group
from audit.models import Action, Event
from casework import services
from casework.models import Contact
from casework.periods import fiscal_year
from indicators import metrics
from indicators.disclosure.publication import published_period
from indicators.reports import metric_breakdown
from referrals import services as referral_services
from referrals.models import Referral
from tests.indicators.conftest import at

pytestmark = pytest.mark.django_db

THIS_YEAR = fiscal_year(timezone.localdate())


def log(user, count: int, **fields) -> None:
    for _ in range(count):
        services.log_contact(user, **fields)


def metric(client, key: str = "contacts", **params):
    return client.get(f"/api/v1/metrics/{key}/", {"year": THIS_YEAR, **params})


def by_dimension(answer: dict, key: str) -> dict:
    (found,) = [b for b in answer["breakdowns"] if b["dimension"] == key]
    return {row["key"]: row for row in found["rows"]}


LAST_YEAR = THIS_YEAR - 1  # closed: published whole, every breakdown
IN_LAST_YEAR = at(LAST_YEAR, 10, 1)


def test_small_cells_are_suppressed_for_viewers_outside_the_owning_organisation(api):
    log(api.counsellor, 6, channel="phone", occurred_at=IN_LAST_YEAR)
    log(api.counsellor, 4, channel="centre_visit", occurred_at=IN_LAST_YEAR)
    # A cell of one: could single someone out.
    log(api.counsellor, 1, channel="email", occurred_at=IN_LAST_YEAR)
    api.world.publish(LAST_YEAR, "contacts")

    outside = metric(api.as_("town_statistics"), year=LAST_YEAR).json()
    assert outside["exact"] is False
    channels = by_dimension(outside, "channel")
    assert channels["email"] == {
        "key": "email",
        "label": "メール",
        "value": None,
        "suppressed": True,
    }
    # Something else is hidden with it (a complement, or the total), or 11 - 6 - 4
    # would give the email figure away.
    hidden = [key for key, row in channels.items() if row["suppressed"]]
    complements = [key for key in hidden if key != "email"] + (
        ["total"] if outside["total"]["suppressed"] else []
    )
    assert complements
    assert all(channels[key]["value"] is None for key in hidden)
    shown = {key: row["value"] for key, row in channels.items() if not row["suppressed"]}
    assert all(value >= 3 for value in shown.values())  # never a small figure

    owner = metric(api.as_("supervisor"), year=LAST_YEAR).json()
    assert owner["exact"] is True
    exact = by_dimension(owner, "channel")
    assert (exact["phone"]["value"], exact["centre_visit"]["value"], exact["email"]["value"]) == (
        6.0,
        4.0,
        1.0,
    )
    assert all(exact[key]["value"] == value for key, value in shown.items())


def test_the_api_hides_exactly_the_cells_the_screen_hides(api, client):
    log(api.counsellor, 5, channel="phone", occurred_at=IN_LAST_YEAR)
    log(api.counsellor, 2, channel="home_visit", occurred_at=IN_LAST_YEAR)
    api.world.publish(LAST_YEAR, "contacts")
    answer = metric(api.as_("town_statistics"), year=LAST_YEAR).json()
    client.force_login(api.town_statistics)
    page = client.get("/indicators/metrics/contacts/", {"year": LAST_YEAR})
    screen = page.context["result"]
    compared = 0
    for dimension in screen.dimensions:
        api_rows = by_dimension(answer, dimension.dimension.key)
        for row, figure in dimension.rows:
            key = None if row.key is None else str(row.key)
            assert api_rows[key]["suppressed"] == figure.suppressed, (dimension, key)
            assert api_rows[key]["value"] == (None if figure.suppressed else figure.value)
            compared += figure.suppressed
    assert compared >= 2  # the cell of two home visits and its complement, at least


def test_the_current_year_publishes_no_breakdown_and_no_filtered_figure(api):
    """An open year's breakdowns would be subtracted month end from month end; a
    filtered figure is a difference of two published ones."""
    api.world.publish(THIS_YEAR, "contacts")
    outside = api.as_("town_statistics")
    if published_period(THIS_YEAR) is None:  # April: no month of the year has ended yet
        assert metric(outside).status_code == 404
        return
    answer = metric(outside).json()
    assert answer["exact"] is False
    assert all(
        row["suppressed"]
        for b in answer["breakdowns"]
        if b["dimension"] != "month"
        for row in b["rows"]
    )
    filtered = metric(outside, p_channel="phone")
    assert filtered.status_code == 400 and filtered.json()["detail"]
    day_range = metric(outside, start=f"{THIS_YEAR}-04-01", end=f"{THIS_YEAR}-04-15")
    assert day_range.status_code == 400


def test_metric_parameters_filter_like_the_screen_and_bad_ones_are_400(api):
    log(api.counsellor, 3, channel="phone")
    log(api.counsellor, 2, channel="email")
    only_phone = metric(api.as_("supervisor"), p_channel="phone").json()
    assert only_phone["total"]["value"] == 3.0
    bad = metric(api.as_("supervisor"), p_channel="pigeon")
    assert bad.status_code == 400
    assert "p_channel" in bad.json()
    assert metric(api.as_("supervisor"), year="1900").status_code == 400
    assert metric(api.as_("supervisor"), scope="region").json()["region"]
    assert api.as_("supervisor").get("/api/v1/metrics/nothing/").status_code == 404


def test_the_metric_list_names_every_registered_metric(api):
    answer = api.as_("statistics").get("/api/v1/metrics/").json()
    assert {m["key"] for m in answer} == set(metrics.REGISTRY)
    contacts = next(m for m in answer if m["key"] == "contacts")
    assert "channel" in {p["key"] for p in contacts["parameters"]}


def test_a_contact_logged_through_the_api_is_encrypted_audited_and_counted(api):
    case = services.open_case(api.counsellor, identity={"name": "試験 太郎"})
    response = api.as_("counsellor").post(
        "/api/v1/contacts/",
        {
            "case": case.code,
            "channel": "home_visit",
            "consulter": "parent",
            "kind": "first",
            "minutes": 45,
            "topics": ["family", "work"],
            "summary": "母親から相談。外出の練習を提案。",
        },
    )
    assert response.status_code == 201, response.json()
    answer = response.json()
    assert "summary" not in answer
    contact = Contact.objects.get(pk=answer["id"])
    assert (contact.case, contact.staff, contact.minutes) == (case, api.counsellor, 45)
    assert contact.summary == "母親から相談。外出の練習を提案。"
    with connection.cursor() as cursor:
        cursor.execute("SELECT summary FROM casework_contact WHERE id = %s", [contact.pk.hex])
        row = cursor.fetchone() or ()
    if not row:  # PostgreSQL stores UUIDs natively
        with connection.cursor() as cursor:
            cursor.execute("SELECT summary FROM casework_contact WHERE id = %s", [contact.pk])
            row = cursor.fetchone()
    assert "外出" not in row[0]
    event = Event.objects.get(action=Action.CREATE, object_ref=str(contact.pk))
    assert event.actor_id == api.counsellor.pk
    assert "外出" not in str(event.detail)
    assert contact.history.count() == 1
    figures = metric(api.as_("supervisor"), p_channel="home_visit").json()
    assert figures["total"]["value"] == 1.0


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "channel"),
        ({"channel": "pigeon"}, "channel"),
        ({"channel": "phone", "minutes": 2000}, "minutes"),
        ({"channel": "phone", "topics": ["unknown"]}, "topics"),
        ({"channel": "phone", "occurred_at": "2999-01-01T10:00:00+09:00"}, "occurred_at"),
        ({"channel": "phone", "summary": "a\x00b"}, "summary"),
        ({"channel": "phone", "municipality": 10**12}, "municipality"),
        ({"channel": "phone", "case": "C-NOSUCH"}, "case"),
    ],
)
def test_a_bad_contact_is_400_with_the_field_named_and_nothing_written(api, payload, field):
    before = Contact.objects.count()
    response = api.as_("counsellor").post("/api/v1/contacts/", payload)
    assert response.status_code == 400
    assert field in response.json()
    assert Contact.objects.count() == before


def test_a_case_the_user_may_not_see_cannot_be_logged_against(api, other_centre_case):
    response = api.as_("counsellor").post(
        "/api/v1/contacts/", {"case": other_centre_case.code, "channel": "phone"}
    )
    assert response.status_code == 400
    assert not Contact.objects.filter(case=other_centre_case).exists()


@pytest.fixture
def other_centre_case(world):
    return services.open_case(world.other_counsellor, identity={"name": "別組織 花子"})


@pytest.fixture
def referral(api):
    case = services.open_case(api.counsellor, identity={"name": "紹介 花子"})
    made = referral_services.create_referral(
        api.counsellor,
        case,
        to_organisation=api.town,
        kind="residence",
        purpose="居住地での継続支援",
        consent={
            "consent_given": True,
            "consent_on": timezone.localdate(),
            "consent_method": "written",
        },
        scopes={"share_summary": True},
    )
    return referral_services.move(api.counsellor, made, to_status="sent")


def test_the_receiving_inbox_lists_the_referral_without_identity(api, referral):
    response = api.as_("liaison").get("/api/v1/referrals/inbox/")
    assert response.status_code == 200
    (item,) = response.json()["results"]
    assert item["id"] == str(referral.pk)
    assert item["side"] == "receiver"
    assert item["case"] is None  # the sender's case code is the sender's business
    assert item["next_statuses"] == ["accepted", "declined"]
    assert "紹介 花子" not in response.content.decode()
    assert "居住地での継続支援" not in response.content.decode()
    assert (
        api.as_("liaison").get("/api/v1/referrals/inbox/", {"status": "accepted"}).json()["results"]
        == []
    )
    assert api.as_("liaison").get("/api/v1/referrals/inbox/", {"status": "x"}).status_code == 400
    # The sender sees it in its outbox, with its case code.
    (sent,) = api.as_("counsellor").get("/api/v1/referrals/outbox/").json()["results"]
    assert sent["case"] == referral.case.code


def test_accepting_through_the_api_opens_the_shared_view_as_the_screen_does(api, referral):
    response = api.as_("liaison").post(
        f"/api/v1/referrals/{referral.pk}/transitions/", {"to": "accepted"}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "accepted"
    referral.refresh_from_db()
    assert referral.status == Referral.Status.ACCEPTED
    assert "view_shared_case" in get_perms(organisation_group(api.town.pk), referral)
    assert Event.objects.filter(action=Action.UPDATE, object_ref=str(referral.pk)).exists()


def test_the_state_machine_and_the_sides_hold_through_the_api(api, referral):
    url = f"/api/v1/referrals/{referral.pk}/transitions/"
    # The sender may not accept its own referral; the receiver may not withdraw it.
    assert api.as_("counsellor").post(url, {"to": "accepted"}).status_code == 403
    assert api.as_("liaison").post(url, {"to": "withdrawn"}).status_code == 403
    # Declining needs a reason; an unknown status is refused; nothing moved meanwhile.
    declined = api.as_("liaison").post(url, {"to": "declined"})
    assert declined.status_code == 400 and declined.json()
    assert api.as_("liaison").post(url, {"to": "lost"}).status_code == 400
    referral.refresh_from_db()
    assert referral.status == Referral.Status.SENT
    # A referral of other organisations does not exist for the user.
    assert api.as_("town_statistics").get(f"/api/v1/referrals/{referral.pk}/").status_code == 403
    assert api.as_("supervisor").get("/api/v1/referrals/not-a-uuid/").status_code == 404


def test_progress_reports_match_the_screen(api, client):
    from indicators.models import Direction, Indicator, Plan, Target

    plan = Plan.objects.create(
        name="計画", organisation=api.centre, first_year=THIS_YEAR - 1, last_year=THIS_YEAR + 1
    )
    direction = Direction.objects.create(plan=plan, number=1, name="相談支援")
    indicator = Indicator.objects.create(
        direction=direction, code="1-1", name="相談件数", unit="件", metric="contacts"
    )
    Target.objects.create(indicator=indicator, fiscal_year=THIS_YEAR, value=10)
    log(api.counsellor, 4, channel="phone")
    answer = (
        api.as_("supervisor").get(f"/api/v1/plans/{plan.pk}/progress/", {"year": THIS_YEAR}).json()
    )
    (row,) = answer["rows"]
    assert row["indicator"]["code"] == "1-1"
    assert (row["actual"]["value"], row["target"], row["ratio"]) == (4.0, 10.0, 40.0)
    assert (
        api.as_("supervisor")
        .get(f"/api/v1/plans/{plan.pk}/progress/", {"as_of": "2001-01-01", "year": THIS_YEAR})
        .status_code
        == 400
    )
    assert api.as_("supervisor").get("/api/v1/plans/999999/progress/").status_code == 404


def test_breakdowns_agree_with_the_report_function(api):
    log(api.counsellor, 3, channel="phone", occurred_at=timezone.now() - datetime.timedelta(days=1))
    answer = metric(api.as_("supervisor"), scope="organisation", organisation=api.centre.pk).json()
    cell = metrics.Cell.of("contacts", {}, metrics.Period.fiscal(THIS_YEAR))
    scope = metrics.Scope(metrics.Scope.ORGANISATION, organisation_id=api.centre.pk)
    expected = metric_breakdown(cell, scope=scope, exact=True)
    assert expected.total.value is not None
    assert answer["total"]["value"] == float(expected.total.value) == 3.0
