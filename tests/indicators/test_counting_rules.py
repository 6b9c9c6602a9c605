"""Each counting rule on crafted records, the expected figure worked out by hand.

The whole suite runs on SQLite and on PostgreSQL, so every rule is checked on both.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from casework.models import Case, Milestone
from indicators import metrics
from indicators.models import Indicator, Plan, Status, Target
from indicators.periods import Period
from indicators.reports import progress_report, ratio
from meetings.models import Meeting
from outreach.models import Visit
from tests.factories import make_case, make_client

from .conftest import at

ALL = metrics.Scope()
FY2024, FY2025 = Period.fiscal(2024), Period.fiscal(2025)


def figure(key, period=FY2025, scope=ALL, **params):
    cell = metrics.Cell.of(key, params, period)
    return metrics.evaluate([cell], scope)[cell]


def test_total_counts_every_contact_and_distinct_counts_people_once(world):
    person = make_client(world.centre, municipality=world.town)
    first = world.case(client=person)
    second = world.case(client=person)  # the same person, a second case
    other = world.case()
    for case, n in ((first, 3), (second, 1), (other, 2)):
        for _ in range(n):
            world.contact(case)
    world.contact(None)  # anonymous call
    # 延べ: 3 + 1 + 2 + 1 anonymous = 7. 実: two people (person, other); anonymous not.
    assert figure("contacts") == 7
    assert figure("people_supported") == 2
    assert figure("contacts", anonymous=["yes"]) == 1
    # A value named twice is one value, not counted twice.
    assert figure("contacts", anonymous=["yes", "yes"]) == 1
    assert figure("contacts", anonymous=["no"]) == 6


def test_new_and_continuing_contacts_and_new_consultations_are_cases_opened(world):
    old = world.case(opened_on=datetime.date(2024, 11, 1))
    new = world.case(opened_on=datetime.date(2025, 4, 10))
    duplicate = world.case(opened_on=datetime.date(2025, 5, 10))
    Case.objects.filter(pk=duplicate.pk).update(merged_into=new)
    world.contact(new, kind="first")
    world.contact(new, kind="continuing")
    world.contact(old, kind="continuing")
    world.contact(None, kind="first")
    assert figure("contacts", kind=["first"]) == 2
    assert figure("contacts", kind=["continuing"]) == 2
    # One case opened in FY2025 (the merged duplicate does not count); one in FY2024.
    assert figure("new_consultations") == 1
    assert figure("new_consultations", FY2024) == 1


def test_fiscal_year_boundary_is_midnight_in_tokyo(world):
    case = world.case()
    world.contact(case, at(2025, 3, 31, 23, 59))  # 14:59 UTC on 31 March: FY2024
    world.contact(case, at(2025, 4, 1, 0, 0))  # 15:00 UTC on 31 March: FY2025
    world.contact(case, at(2026, 3, 31, 23, 59))  # last minute of FY2025
    world.contact(case, at(2026, 4, 1, 0, 0))  # FY2026
    assert figure("contacts", FY2024) == 1
    assert figure("contacts", FY2025) == 2
    world.case(opened_on=datetime.date(2025, 3, 31))
    world.case(opened_on=datetime.date(2025, 4, 1))
    # `case` itself was opened on 1 May 2025 (the fixture default).
    assert figure("new_consultations", FY2024) == 1
    assert figure("new_consultations", FY2025) == 2


def test_as_of_cut_off_includes_the_whole_last_day_only(world):
    case = world.case()
    world.contact(case, at(2025, 12, 31, 23, 59))
    world.contact(case, at(2026, 1, 1, 0, 0))
    as_of = Period.fiscal(2025, datetime.date(2025, 12, 31))
    assert as_of == Period(datetime.date(2025, 4, 1), datetime.date(2025, 12, 31))
    assert figure("contacts", as_of) == 1
    assert figure("contacts", FY2025) == 2


def test_channel_and_consulter_parameters_filter(world):
    case = world.case()
    world.contact(case, channel="phone", consulter="parent")
    world.contact(case, channel="phone", consulter="self")
    world.contact(case, channel="email", consulter="parent")
    assert figure("contacts", channel=["phone"]) == 2
    assert figure("contacts", channel=["phone", "email"]) == 3
    assert figure("contacts", consulter=["parent"], channel=["phone"]) == 1


def test_municipal_staff_consultations_need_an_agency_consulter_from_a_municipality(world):
    case = world.case()
    world.contact(case, consulter="agency", referring_organisation=world.town)
    world.contact(None, consulter="agency", referring_organisation=world.village)
    world.contact(case, consulter="agency", referring_organisation=world.centre)  # not a town
    world.contact(case, consulter="parent", referring_organisation=world.town)  # not staff
    assert figure("municipal_staff_consultations") == 2


def test_outreach_counts_done_visits_by_the_day_they_happened(world):
    case = world.case()
    world.visit(case, at(2025, 6, 1))
    world.visit(case, at(2025, 6, 2), kind=Visit.Kind.ACCOMPANIMENT)
    world.visit(case, at(2025, 6, 3), status=Visit.Status.CANCELLED)
    world.visit(case, at(2025, 6, 4), status=Visit.Status.PLANNED)
    world.visit(case, at(2025, 3, 31, 23, 0))  # FY2024
    assert figure("outreach_contacts") == 2
    assert figure("outreach_contacts", visit_kind=["accompaniment"]) == 1
    assert figure("outreach_contacts", FY2024) == 1


def test_mdt_cases_are_distinct_cases_of_held_monthly_meetings(world):
    a, b = world.case(), world.case()
    june = world.meeting(world.centre, at(2025, 6, 10), Meeting.Kind.MDT_MONTHLY)
    july = world.meeting(world.centre, at(2025, 7, 10), Meeting.Kind.MDT_MONTHLY)
    planned = world.meeting(world.centre, at(2025, 8, 10), Meeting.Kind.MDT_MONTHLY, held=False)
    conference = world.meeting(world.centre, at(2025, 8, 11))
    world.agenda(june, a)
    world.agenda(july, a)  # a again: 実 counts it once
    world.agenda(july, b)
    world.agenda(planned, world.case())  # not held
    world.agenda(conference, world.case())  # not an MDT meeting
    assert figure("mdt_cases") == 2
    assert figure("meetings_held") == 3
    assert figure("meetings_held", meeting_kind=["mdt_monthly"]) == 2


def test_municipalities_holding_case_conferences_are_counted_once_each(world):
    world.meeting(world.town, at(2025, 5, 1))
    world.meeting(world.town, at(2025, 9, 1))
    world.meeting(world.village, at(2025, 9, 1), held=False)
    world.meeting(world.centre, at(2025, 9, 1))  # not a municipality
    world.meeting(world.village, at(2025, 9, 2), Meeting.Kind.NETWORK)  # not a conference
    assert figure("case_conference_municipalities") == 1


def test_programme_sessions_attendance_and_use_across_municipal_borders(world):
    world.session(
        "ibasho",
        world.town,
        datetime.date(2025, 7, 1),
        [(world.town, 4), (world.village, 3), (None, 2)],
    )
    world.session("family_class", world.village, datetime.date(2025, 7, 2), [(world.village, 5)])
    world.session("family_class", world.village, datetime.date(2025, 3, 2), [(world.town, 9)])
    assert figure("programme_sessions") == 2
    assert figure("programme_attendance") == 4 + 3 + 2 + 5
    assert figure("programme_attendance", programme_kind=["family_class"]) == 5
    # Only the 3 from B村 at A町's ibasho: residence known and different from the host.
    assert figure("cross_municipality_use") == 3


def test_support_connections_and_employment_after_intermediate_work(world):
    kinds = Milestone.Kind
    a, b, c, d = world.case(), world.case(), world.case(), world.case()
    world.milestone(a, kinds.IBASHO, datetime.date(2025, 5, 1))
    world.milestone(a, kinds.IBASHO, datetime.date(2025, 9, 1))  # same person: once
    world.milestone(b, kinds.WELFARE_SERVICE, datetime.date(2025, 6, 1))
    world.milestone(b, kinds.INTERMEDIATE_WORK, datetime.date(2024, 10, 1))
    world.milestone(b, kinds.EMPLOYED, datetime.date(2025, 8, 1))  # after intermediate work
    world.milestone(c, kinds.EMPLOYED, datetime.date(2025, 8, 1))  # never intermediate
    world.milestone(d, kinds.EMPLOYED, datetime.date(2025, 8, 1))
    world.milestone(d, kinds.INTERMEDIATE_WORK, datetime.date(2025, 9, 1))  # only afterwards
    assert figure("support_connections") == 1  # default: ibasho
    assert figure("support_connections", milestone_kind=["ibasho", "welfare_service"]) == 2
    assert figure("employment_after_intermediate_work") == 1


def test_municipal_readiness_is_a_state_on_the_last_day(world):
    world.town.consultation_window_established_on = datetime.date(2025, 3, 31)
    world.town.platform_established_on = datetime.date(2025, 10, 1)
    world.town.save()
    world.village.consultation_window_established_on = datetime.date(2025, 4, 1)
    world.village.save()
    assert figure("municipal_readiness", FY2024) == 1
    assert figure("municipal_readiness", FY2025) == 2
    half = Period.fiscal(2025, datetime.date(2025, 9, 30))
    assert figure("municipal_readiness", half, step=["platform"]) == 0
    assert figure("municipal_readiness", FY2025, step=["consultation_window", "platform"]) == 1


def test_scope_by_organisation_and_region(world):
    world.contact(world.case())
    world.contact(world.case(organisation=world.town))
    world.contact(world.case(organisation=world.town))
    world.contact(world.case(organisation=world.village))
    assert figure("contacts") == 4
    assert (
        figure("contacts", scope=metrics.Scope("organisation", organisation_id=world.town.pk)) == 2
    )
    assert figure("contacts", scope=metrics.Scope("region", region_id=world.south.pk)) == 1


def test_breakdown_by_month_lists_every_month_of_the_period(world):
    case = world.case()
    world.contact(case, at(2025, 4, 30, 23, 59))
    world.contact(case, at(2025, 5, 1, 0, 0))
    world.contact(case, at(2026, 3, 31, 23, 59))
    rows = metrics.breakdown(metrics.Cell.of("contacts", {}, FY2025), ALL, "month")
    assert [(r.key.month, r.value) for r in rows] == [
        (4, 1),
        (5, 1),
        (6, 0),
        (7, 0),
        (8, 0),
        (9, 0),
        (10, 0),
        (11, 0),
        (12, 0),
        (1, 0),
        (2, 0),
        (3, 1),
    ]


def test_breakdown_by_residence_and_region(world):
    world.contact(world.case(client=make_client(world.centre, municipality=world.town)))
    world.contact(
        world.case(client=make_client(world.centre, municipality=world.village)),
        municipality=world.village,
    )
    world.contact(None, municipality=world.village)
    world.contact(None)
    cell = metrics.Cell.of("contacts", {}, FY2025)
    by_region = {r.label: r.value for r in metrics.breakdown(cell, ALL, "region")}
    assert by_region == {"南部": 2, "不明・該当なし": 2}


def test_unknown_parameters_are_refused_with_a_reason(world):
    with pytest.raises(ValueError, match="相談方法"):
        metrics.Cell.of("contacts", {"channel": ["fax"]}, FY2025)
    with pytest.raises(ValueError, match="条件"):
        metrics.Cell.of("contacts", {"colour": ["red"]}, FY2025)


# ------------------------------------------------------------------- plan arithmetic


def _plan(world, **indicator_fields) -> tuple[Plan, Indicator]:
    plan = world.plan(
        "テスト計画",
        {"code": "1", "name": "相談件数", "unit": "件", "metric": "contacts", **indicator_fields},
    )
    return plan, plan.directions.get().indicators.get()


def test_cumulative_target_and_capped_ratio(world):
    plan, indicator = _plan(world, accumulation=Indicator.Accumulation.CUMULATIVE, cap_ratio=True)
    for year in (2024, 2025, 2026):
        Target.objects.create(indicator=indicator, fiscal_year=year, value=3)
    case = world.case()
    for when in [at(2024, 5, 1), at(2024, 6, 1)] + [at(2025, 5, d) for d in range(1, 6)]:
        world.contact(case, when)
    row = progress_report(plan, year=2025, exact=True).rows[0]
    # FY2025: 5 this year, 2 + 5 = 7 since FY2024; target 3 this year, 3 + 3 = 6 cumulative.
    assert row.actual.value == 5 and row.cumulative.value == 7
    assert (row.target, row.cumulative_target) == (Decimal(3), Decimal(6))
    assert row.actual_cell() == "5件(7件)"
    assert row.target_text() == "3件(6件)"
    # 7 / 6 = 116.666…% → 116.7 raw, 100 as the format shows it; the status uses the raw.
    assert row.ratio == Decimal("116.7")
    assert row.ratio_shown == Decimal(100)
    assert row.status == Status.ON_TRACK


def test_annual_ratio_status_thresholds_and_override(world):
    plan, indicator = _plan(world)
    Target.objects.create(indicator=indicator, fiscal_year=2025, value=8)
    case = world.case()
    for day in range(1, 6):
        world.contact(case, at(2025, 6, day))
    row = progress_report(plan, year=2025, exact=True).rows[0]
    # 5 / 8 = 62.5%: below 80 (概ね順調), at least 50 (やや遅れ). Not capped: shown as is.
    assert row.ratio == row.ratio_shown == Decimal("62.5")
    assert row.status == Status.DELAYED
    plan.delayed_from = 70
    plan.save()
    assert progress_report(plan, year=2025, exact=True).rows[0].status == Status.BEHIND
    from indicators.models import Assessment

    Assessment.objects.create(
        indicator=indicator,
        fiscal_year=2025,
        status_override=Status.MOSTLY,
        override_reason="下半期に集中して実施予定",
        updated_by=world.supervisor,
    )
    row = progress_report(plan, year=2025, exact=True).rows[0]
    assert (row.status, row.computed_status, row.overridden) == (Status.MOSTLY, Status.BEHIND, True)


def test_ratio_rounds_half_up_and_needs_a_positive_target():
    assert ratio(Decimal(1), target=Decimal(8)) == Decimal("12.5")
    assert ratio(Decimal(2), target=Decimal(3)) == Decimal("66.7")
    assert ratio(Decimal(1), target=Decimal(0)) is None
    assert ratio(None, target=Decimal(5)) is None


def test_prior_years_are_whole_years_and_the_current_year_stops_at_the_as_of_date(world):
    plan, _indicator = _plan(world)
    case = world.case()
    world.contact(case, at(2023, 12, 1))
    world.contact(case, at(2024, 3, 15))
    world.contact(case, at(2025, 2, 1))
    world.contact(case, at(2025, 10, 1))
    world.contact(case, at(2026, 1, 15))
    report = progress_report(plan, year=2025, as_of=datetime.date(2025, 12, 31), exact=True)
    row = report.rows[0]
    assert [(y, f.value) for y, f in row.prior] == [(2023, Decimal(2)), (2024, Decimal(1))]
    assert row.actual.value == 1


def test_distinct_figures_of_several_periods_and_conditions_come_right_together(world):
    person = make_client(world.centre, municipality=world.town)
    first = world.case(client=person)
    second = world.case(client=person)  # the same person, a second case
    other = make_case(world.centre, opened_on=datetime.date(2025, 5, 1))  # no client
    world.contact(first, at(2024, 6, 1, 10, 0), channel="phone")
    world.contact(second, at(2025, 5, 1, 10, 0), channel="centre_visit")
    world.contact(second, at(2025, 6, 1, 10, 0), channel="phone")
    world.contact(other, at(2025, 7, 1, 10, 0), channel="email")
    world.contact(None, at(2025, 7, 2, 10, 0), channel="phone")  # anonymous: no one
    cells = {
        (key, period, channel): metrics.Cell.of(
            key, {"channel": channel} if channel else {}, period
        )
        for key in ("people_supported",)
        for period in (FY2024, FY2025)
        for channel in (None, "phone", "email")
    }
    figures = metrics.evaluate(cells.values(), ALL)
    by_hand = {
        # FY2024: the person by phone. FY2025: the person (two cases, one person) and the
        # case without a client record, which counts as one person itself.
        (FY2024, None): 1,
        (FY2024, "phone"): 1,
        (FY2024, "email"): 0,
        (FY2025, None): 2,
        (FY2025, "phone"): 1,
        (FY2025, "email"): 1,
    }
    assert {k[1:]: figures[cell] for k, cell in cells.items()} == by_hand
