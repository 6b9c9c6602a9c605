"""The counting rules of "Figures that agree with each other", each on crafted records
with the expected figure worked out by hand: outreach as home-visit and accompaniment
contacts whatever wrote them, agenda items (延べ) and cases discussed (実) by meeting
kind, referral response time (a median and a share, not counts) with its publication
rule, use across municipal borders falling back to the organiser's municipality, and
municipality rows in local government code order."""

from __future__ import annotations

import collections
import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from api.models import ApiToken
from casework import services as casework
from casework import writers
from casework.models import Contact
from indicators import metrics
from indicators.disclosure import publication, statistics
from indicators.periods import Period
from indicators.reports import metric_breakdown
from meetings.models import Meeting
from outreach import services as outreach
from outreach.models import Attendance, Programme, Session, Visit
from referrals.models import Referral
from tests.factories import make_client, make_organisation

from .conftest import at

ALL = metrics.Scope()
FY2025 = Period.fiscal(2025)


def figure(key, period=FY2025, scope=ALL, **params):
    cell = metrics.Cell.of(key, params, period)
    return metrics.evaluate([cell], scope)[cell]


def rows(key, dimension, scope=ALL, **params):
    cell = metrics.Cell.of(key, params, FY2025)
    return {row.label: row.value for row in metrics.breakdown(cell, scope, dimension)}


# ------------------------------------------------------------------------ outreach


def test_outreach_is_every_home_visit_and_accompaniment_contact_whoever_wrote_it(world):
    case = casework.open_case(
        world.counsellor,
        identity={"name": "訪問 太郎"},
        case_fields={"opened_on": datetime.date(2025, 5, 1)},
        confirm_duplicate=True,
    )
    # 1. A planned visit completed: its one contact, channel 訪問.
    planned = outreach.plan_visit(
        world.counsellor, case, planned_start=at(2025, 6, 1), workers=[world.counsellor]
    )
    outreach.complete_visit(world.counsellor, planned, outcome="met_person", minutes=60)
    # 2. A visit recorded afterwards: an accompaniment, its contact channel 同行支援.
    outreach.record_visit(
        world.counsellor,
        case,
        occurred_at=at(2025, 6, 2),
        minutes=30,
        outcome="met_person",
        kind=Visit.Kind.ACCOMPANIMENT,
        destination=Visit.Destination.HOSPITAL,
    )
    # 3. The contact form: a home visit logged without any visit.
    casework.log_contact(
        world.counsellor, case=case, occurred_at=at(2025, 6, 3), channel="home_visit"
    )
    # 4. The bulk writer (imports, the demo): one home visit, one accompaniment.
    writers.bulk_log_contacts(
        [
            Contact(
                case=case,
                organisation=world.centre,
                staff=world.counsellor,
                occurred_at=at(2025, 6, day),
                channel=channel,
                summary="取込",
            )
            for day, channel in ((4, "home_visit"), (5, "accompaniment"))
        ]
    )
    # Not outreach: a phone call.
    casework.log_contact(world.counsellor, case=case, occurred_at=at(2025, 6, 6), channel="phone")
    # Home visits: planned (1) + form (3) + bulk (4) = 3; accompaniments: recorded (2) +
    # bulk (5) = 2; outreach = 5 = the contacts' 訪問 + 同行支援 rows.
    assert figure("outreach_contacts") == 5
    assert figure("outreach_contacts", visit_kind=["home_visit"]) == 3
    assert figure("outreach_contacts", visit_kind=["accompaniment"]) == 2
    by_channel = rows("contacts", "channel")
    assert by_channel["訪問"] + by_channel["同行支援"] == 5
    assert rows("outreach_contacts", "visit_kind") == {"面談・訪問": 3, "同行支援": 2}
    # Destinations: only the two visits that went through the schedule have one.
    assert figure("outreach_visits") == 2
    assert rows("outreach_visits", "destination")["医療機関"] == 1
    assert rows("outreach_visits", "destination")["自宅"] == 1


# ---------------------------------------------------------------- meetings' agendas


def test_agenda_items_total_and_cases_distinct_by_meeting_kind(world):
    a, b, c = world.case(), world.case(), world.case()
    mdt_june = world.meeting(world.centre, at(2025, 6, 10), Meeting.Kind.MDT_MONTHLY)
    mdt_july = world.meeting(world.centre, at(2025, 7, 10), Meeting.Kind.MDT_MONTHLY)
    conference = world.meeting(world.town, at(2025, 7, 20), Meeting.Kind.CASE_CONFERENCE)
    planned = world.meeting(world.centre, at(2025, 8, 10), Meeting.Kind.MDT_MONTHLY, held=False)
    world.agenda(mdt_june, a)
    world.agenda(mdt_july, a)
    world.agenda(mdt_july, b)
    world.agenda(conference, a)
    world.agenda(conference, c)
    world.agenda(planned, c)  # not held: not counted
    # 延べ: MDT 3 (a, a, b) + conference 2 (a, c) = 5.
    assert figure("agenda_items") == 5
    assert figure("agenda_items", meeting_kind=["mdt_monthly"]) == 3
    assert figure("agenda_items", meeting_kind=["case_conference"]) == 2
    # 実: a, b, c = 3; MDT a, b = 2; conference a, c = 2.
    assert figure("cases_discussed") == 3
    assert figure("cases_discussed", meeting_kind=["mdt_monthly"]) == 2
    assert figure("cases_discussed", meeting_kind=["case_conference"]) == 2
    # mdt_cases keeps its meaning: cases of the monthly MDT meetings only.
    assert figure("mdt_cases") == 2
    by_kind = rows("cases_discussed", "meeting_kind")
    assert by_kind["多職種連携チーム会議（月例）"] == 2
    assert by_kind["個別ケース会議"] == 2
    assert by_kind["支援ネットワーク会議"] == 0
    assert rows("agenda_items", "meeting_kind")["多職種連携チーム会議（月例）"] == 3
    assert "meeting_kind" not in [d.key for d in metrics.get("mdt_cases").dimensions]


# ----------------------------------------------------------------------- referrals


def _referral(world, sent, accepted=None, *, organisation=None, declined=False, kind="medical"):
    organisation = organisation or world.centre
    case = world.case(organisation=organisation)
    if declined:
        status = Referral.Status.DECLINED
    else:
        status = Referral.Status.ACCEPTED if accepted else Referral.Status.SENT
    return Referral.objects.create(
        case=case,
        data_key=case.data_key,
        from_organisation=organisation,
        to_organisation=world.town,
        kind=kind,
        purpose="紹介",
        status=status,
        created_by=world.counsellor,
        sent_at=sent,
        responded_at=accepted,
    )


def test_days_to_accept_are_calendar_days_in_tokyo_and_an_even_median_is_the_mean(world):
    # Sent 23:30 JST, accepted 00:30 JST the next day: one hour, but 1 calendar day.
    _referral(world, at(2025, 6, 1, 23, 30), at(2025, 6, 2, 0, 30))
    # Sent and accepted the same day: 0 days.
    _referral(world, at(2025, 6, 3, 9, 0), at(2025, 6, 3, 17, 0))
    # 4 and 10 days.
    _referral(world, at(2025, 7, 1), at(2025, 7, 5))
    _referral(world, at(2025, 7, 1), at(2025, 7, 11))
    # Not counted: declined, unanswered, sent before the year.
    _referral(world, at(2025, 7, 1), at(2025, 7, 2), declined=True)
    _referral(world, at(2025, 7, 1))
    _referral(world, at(2025, 3, 31, 23, 0), at(2025, 4, 1, 1, 0))
    # Days 0, 1, 4, 10: an even count, the mean of 1 and 4 = 2.5.
    assert figure("referral_days_to_accept") == Decimal("2.5")
    # June: 0 and 1 → 0.5; July: 4 and 10 → 7; August: none.
    by_month = rows("referral_days_to_accept", "month")
    assert by_month["2025年6月"] == Decimal("0.5")
    assert by_month["2025年7月"] == Decimal("7")
    assert by_month["2025年8月"] is None
    # Within 7 days: 0, 1, 4 of 4 = 75.0 %; within 30: 100 %; default 14 days: 100 %.
    assert figure("referrals_accepted_within", within=["7"]) == Decimal("75.0")
    assert figure("referrals_accepted_within", within=["30"]) == Decimal("100.0")
    assert figure("referrals_accepted_within") == Decimal("100.0")
    # Odd count: add 20 days → 0, 1, 4, 10, 20, median 4; within 7 = 3 of 5 = 60.0 %.
    _referral(world, at(2025, 9, 1), at(2025, 9, 21), kind="employment")
    assert figure("referral_days_to_accept") == Decimal("4")
    assert figure("referrals_accepted_within", within=["7"]) == Decimal("60.0")
    assert figure("referral_days_to_accept", referral_kind=["employment"]) == Decimal("20")
    # Nothing to summarise: no figure at all, not zero.
    assert figure("referral_days_to_accept", Period.fiscal(2023)) is None


def test_share_within_takes_one_number_of_days_and_a_completed_referral_counts(world):
    # Accepted then completed (or withdrawn): still accepted, answered on responded_at.
    done = _referral(world, at(2025, 6, 1), at(2025, 6, 9))
    Referral.objects.filter(pk=done.pk).update(status=Referral.Status.COMPLETED)
    assert figure("referral_days_to_accept") == Decimal("8")
    assert figure("referrals_accepted_within", within=["7"]) == Decimal("0.0")
    with pytest.raises(ValueError, match="1つだけ"):
        metrics.Cell.of("referrals_accepted_within", {"within": ["7", "14"]}, FY2025)


def test_a_median_and_a_count_of_one_report_cost_one_query_each(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _referral(world, at(2025, 6, 1), at(2025, 6, 3))
    cells = [
        metrics.Cell.of("referral_days_to_accept", {}, FY2025),
        metrics.Cell.of("referrals_accepted_within", {"within": ["7"]}, FY2025),
        metrics.Cell.of("referrals", {}, FY2025),
    ]
    with CaptureQueriesContext(connection) as queries:
        answers = metrics.evaluate(cells, ALL)
    # The two statistics read the same fields: one query of rows; the count one more.
    assert len(queries.captured_queries) == 2
    assert [answers[c] for c in cells] == [Decimal("2"), Decimal("100.0"), 1]


def test_a_median_of_few_referrals_is_not_published(world):
    """The rule (indicators.disclosure.statistics): at least 10 referrals, and at least 3
    of them from organisations other than the one with the most."""
    # Ten from the centre alone: 10 rows but 0 from anyone else → hidden.
    for day in range(1, 11):
        _referral(world, at(2025, 6, day), at(2025, 6, day + 2))  # 2 days each
    figures, _hidden = publication.compute(metrics.get("referral_days_to_accept"), FY2025)
    shown = {(s, d, v): value for s, d, v, value in figures}
    assert shown[("p", "", None)] is None
    # Two more from another organisation (0 days): 12 rows, 2 from others → still hidden.
    for day in (1, 2):
        _referral(world, at(2025, 7, day), at(2025, 7, day), organisation=world.other)
    figures, _hidden = publication.compute(metrics.get("referral_days_to_accept"), FY2025)
    assert {(s, d, v): value for s, d, v, value in figures}[("p", "", None)] is None
    # A third: 13 rows, 3 from others → shown. Days: ten 2s and three 0s → median 2.
    _referral(world, at(2025, 7, 3), at(2025, 7, 3), organisation=world.other)
    figures, _hidden = publication.compute(metrics.get("referral_days_to_accept"), FY2025)
    shown = {(s, d, v): value for s, d, v, value in figures}
    assert shown[("p", "", None)] == 2.0
    # June alone is the centre's ten only → hidden; a month without referrals → hidden.
    assert shown[("p", "month", "2025-06-01")] is None
    assert shown[("p", "month", "2025-08-01")] is None
    # The current year's figures wait for its end (two cuts would tell the rows between).
    assert statistics.compute(
        metrics.get("referral_days_to_accept"),
        Period(datetime.date(2025, 4, 1), datetime.date(2025, 9, 30)),
        threshold=3,
    ) == ([], 0)
    assert statistics.may_show(collections.Counter({1: 7, 2: 3}), threshold=3)
    assert not statistics.may_show(collections.Counter({1: 9}), threshold=3)


def test_outsiders_read_the_published_median_and_exact_viewers_the_counted_one(world):
    for day in range(1, 11):
        _referral(world, at(2025, 6, day), at(2025, 6, day + 1))  # 1 day each
    for day in (1, 2, 3):
        _referral(world, at(2025, 7, day), at(2025, 7, day + 3), organisation=world.other)
    # Days: ten 1s, three 3s → median 1; within 7: 100 %.
    publication.publish("referral_days_to_accept", 2025, today=datetime.date(2026, 5, 1))
    cell = metrics.Cell.of("referral_days_to_accept", {}, FY2025)
    outside = metric_breakdown(cell, scope=ALL, exact=False)
    assert outside.total.value == Decimal("1") and not outside.total.suppressed
    by_month = dict(outside.monthly)
    assert by_month[datetime.date(2025, 6, 1)].suppressed  # the centre's ten alone
    exact = metric_breakdown(cell, scope=ALL, exact=True)
    assert exact.total.value == Decimal("1")
    assert dict(exact.monthly)[datetime.date(2025, 7, 1)].value == 3
    month_table = next(t for d, t in exact.tables if d.key == "month")
    assert month_table.columns[0] == "月"
    assert month_table.rows[-1][0] == "全体"
    # A stored share keeps its decimal: 66.7, not the float nearest to it.
    assert statistics.as_decimal(66.7) == Decimal("66.7")


def test_metric_page_export_and_api_show_a_median(client, world):
    _referral(world, at(2025, 6, 1, 23, 30), at(2025, 6, 2, 0, 30))
    _referral(world, at(2025, 6, 3), at(2025, 6, 5))
    query = {"year": 2025, "scope": "organisation", "organisation": world.centre.pk}
    client.force_login(world.supervisor)
    page = client.get(reverse("indicators:metric", args=["referral_days_to_accept"]), query)
    assert page.status_code == 200
    assert "<strong>1.5</strong>" in page.content.decode()  # days 1 and 2
    share = client.get(
        reverse("indicators:metric", args=["referrals_accepted_within"]), {**query, "p_within": "7"}
    )
    assert share.status_code == 200 and "<strong>100</strong>" in share.content.decode()
    two = client.get(
        reverse("indicators:metric", args=["referrals_accepted_within"]),
        {**query, "p_within": ["7", "30"]},
    )
    assert two.status_code == 400 and "1つだけ選んでください" in two.content.decode()
    export = client.get(
        reverse("indicators:metric_export", args=["referral_days_to_accept", "csv"]), query
    )
    assert export.status_code == 200 and "1.5" in export.content.decode("utf-8-sig")
    xlsx = client.get(
        reverse("indicators:metric_export", args=["referral_days_to_accept", "xlsx"]), query
    )
    assert xlsx.status_code == 200
    raw = ApiToken.issue(world.supervisor, name="test", days=30)[1]
    answer = Client().get(
        reverse("api:metric_detail", args=["referral_days_to_accept"]),
        query,
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["counting"] == "median" and body["total"]["value"] == 1.5


# ------------------------------------------------------------ across municipal borders


def test_cross_municipality_use_falls_back_to_the_organisers_municipality(world):
    world.centre.seat_municipality = world.town
    world.centre.save()

    def attend(organiser, host, residence, count):
        programme = Programme.objects.create(
            kind="ibasho", name="居場所", organiser=organiser, host_municipality=host
        )
        session = Session.objects.create(programme=programme, held_on=datetime.date(2025, 7, 1))
        Attendance.objects.create(
            session=session, participant_type="self", residence=residence, count=count
        )

    # No host named, the centre sits in A町: 3 from B村 count, 4 from A町 do not.
    attend(world.centre, None, world.village, 3)
    attend(world.centre, None, world.town, 4)
    # A municipality organising without naming a host is its own host: 5 from A町 count.
    attend(world.village, None, world.town, 5)
    # A named host wins over the organiser's seat: held in B村, 6 from B村 do not count.
    attend(world.centre, world.village, world.village, 6)
    # Neither a host nor a seat (別の組織 has none): 7 not counted.
    attend(world.other, None, world.village, 7)
    # A residence not known: 8 not counted.
    attend(world.centre, None, None, 8)
    assert figure("cross_municipality_use") == 3 + 5


# ------------------------------------------------------------------- table polish


def test_municipality_rows_follow_the_local_government_code_and_headers_read_whole(world):
    # Names in the opposite order to their codes: あ町 has the larger code.
    late = make_organisation("municipality", name="あ町", local_government_code="999997")
    early = make_organisation("municipality", name="ん村", local_government_code="011002")
    for municipality in (late, early):
        client = make_client(world.centre, municipality=municipality)
        world.contact(world.case(client=client), municipality=municipality)
    labels = [
        row.label
        for row in metrics.breakdown(metrics.Cell.of("contacts", {}, FY2025), ALL, "municipality")
    ]
    assert labels == ["ん村", "あ町"]
    headings = {d.key: d.heading for m in metrics.REGISTRY.values() for d in m.dimensions}
    assert headings["gender"] == "性別"
    assert headings["visit_kind"] == "種別"
    assert headings["meeting_kind"] == "会議の種別"
    assert headings["month"] == "月"
    assert headings["municipality"] == "居住市町村"
    # A publication lists them in the same order (the page of viewers outside).
    figures, _hidden = publication.compute(metrics.get("contacts"), FY2025)
    published = [v for s, d, v, _shown in figures if (s, d) == ("p", "municipality")]
    assert published == [early.pk, late.pk]
    result = metric_breakdown(metrics.Cell.of("contacts", {}, FY2025), scope=ALL, exact=True)
    columns = {d.key: t.columns[0] for d, t in result.tables}
    assert columns["gender"] == "性別" and columns["municipality"] == "居住市町村"


def test_labels_tell_new_cases_from_first_contacts():
    assert str(metrics.get("new_consultations").label) == "新規ケース数（受付）"
    kind = dict((p.key, p) for p, _path in metrics.get("contacts").params)["kind"]
    assert "初回" in str(kind.label)
    assert "受付日" in str(metrics.get("new_consultations").description)


def test_a_progress_report_shows_a_median_and_no_figure_without_referrals(world):
    from indicators.reports import progress_report

    plan = world.plan(
        "紹介",
        {"code": "1", "name": "受理までの日数", "unit": "日", "metric": "referral_days_to_accept"},
    )
    _referral(world, at(2025, 6, 1), at(2025, 6, 4))  # 3 days
    report = progress_report(plan, year=2025, exact=True)
    (row,) = report.rows
    assert row.actual.value == Decimal("3") and not row.actual.suppressed
    prior = dict(row.prior)
    assert prior[2024].value is None and not prior[2024].suppressed  # none sent: no figure
