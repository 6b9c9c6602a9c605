"""Publications (indicators.disclosure.publication): the query space built from real rows,
protected against outsiders and against an organisation that knows its own figures,
stored and read back unchanged until the next publication."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Organisation
from indicators import metrics
from indicators.disclosure import space as query_space
from indicators.disclosure.audit import leaks
from indicators.disclosure.publication import compute, publish, published, published_period
from indicators.disclosure.suppress import protect
from indicators.models import Publication
from indicators.periods import Period
from tests.factories import make_organisation

from .conftest import at

FY2025 = Period.fiscal(2025)


def test_published_period_is_the_year_or_up_to_the_last_month_end():
    # Worked by hand: on 1 Dec 2026 the last month end of fiscal 2026 is 30 Nov 2026;
    # fiscal 2025 is over (whole year); in April nothing of the year has ended yet.
    today = datetime.date(2026, 12, 1)
    assert published_period(2026, today) == Period(
        datetime.date(2026, 4, 1), datetime.date(2026, 11, 30)
    )
    assert published_period(2025, today) == Period(
        datetime.date(2025, 4, 1), datetime.date(2026, 3, 31)
    )
    assert published_period(2026, datetime.date(2026, 4, 15)) is None
    assert published_period(2026, datetime.date(2026, 5, 1)) == Period(
        datetime.date(2026, 4, 1), datetime.date(2026, 4, 30)
    )


def _north_with_a_neighbour(world):
    """The town (north) with ten phone contacts and a neighbouring town in the north with
    one: the north's figures are large, its neighbour's single contact is not."""
    neighbour = make_organisation(
        Organisation.Kind.MUNICIPALITY, name="C町", region=world.town.region
    )
    for day in range(1, 11):
        world.contact(None, when=at(2025, 6, day), organisation=world.town, channel="phone")
    world.contact(None, when=at(2025, 6, 3), organisation=neighbour, channel="phone")
    return neighbour


def test_an_insider_cannot_subtract_its_own_figures_from_its_region(world):
    _north_with_a_neighbour(world)
    metric = metrics.get("contacts")
    space = query_space.build(metric, FY2025, threshold=3)
    town_view = space.insiders[query_space.org_scope(world.town.pk)]
    north = query_space.region_scope(world.town.region_id)
    # Suppression for outsiders alone protects every figure from them, but the town,
    # knowing its own 10 of the north's 11, reads its neighbour's part from what is shown.
    outsiders_only = protect(space.model)
    assert space.model.figures[(north, "", None)].value == 11
    assert leaks(space.model, outsiders_only) == []
    assert leaks(town_view, outsiders_only) != []
    # The publication protects every figure for outsiders and for every insider.
    figures, hidden = compute(metric, FY2025)
    shown = {(s, d, v): value for s, d, v, value in figures}
    assert shown[(north, "", None)] is None
    hidden_keys = {key for key, value in shown.items() if value is None}
    assert len(hidden_keys) == hidden
    assert leaks(space.model, hidden_keys) == []
    for view in space.insiders.values():
        assert leaks(view, hidden_keys) == []


def test_readers_never_compute_and_a_closed_year_is_final_until_revised(world):
    neighbour = make_organisation(
        Organisation.Kind.MUNICIPALITY, name="C町", region=world.town.region
    )
    for organisation, calls in ((world.town, 10), (neighbour, 20), (world.village, 30)):
        for day in range(1, calls + 1):
            world.contact(None, when=at(2025, 7, day), organisation=organisation, channel="phone")
    # Nothing stored: a reader gets nothing (computing would take a request minutes).
    assert published("contacts", [2025])[2025].period is None
    assert not Publication.objects.exists()
    publish("contacts", 2025)
    first = published("contacts", [2025])[2025]
    stored = Publication.objects.get(metric="contacts", fiscal_year=2025)
    assert first.period == FY2025
    # A record added after the year closed changes nothing: the same question gets the
    # same answer, publishing again included.
    world.contact(None, when=at(2025, 7, 20), organisation=world.town, channel="phone")
    publish("contacts", 2025)
    assert published("contacts", [2025])[2025].figures == first.figures
    assert Publication.objects.get(pk=stored.pk).computed_at == stored.computed_at
    # A revision counts the new record and keeps shown what the first showed.
    publish("contacts", 2025, revise=True)
    latest = published("contacts", [2025])[2025]
    assert latest.figure(metrics.Scope()) in (61, None)
    assert Publication.objects.count() == 1
    shown_first = {key for key, value in first.figures.items() if value is not None}
    assert shown_first
    assert all(latest.figures[key] is not None for key in shown_first)


def _monthly_publications(world, *, carry_earlier: bool):
    """Fiscal 2026 published at the end of September and again at the end of October.
    The north: the town with ten calls in September, a neighbour with twenty; in October
    the neighbour alone, one call. The south: the village with forty calls in September,
    ten in October; a second town with thirty each month.
    With `carry_earlier` false the October publication is computed as if September's had
    never been shown (what the first design did)."""
    neighbour = make_organisation(
        Organisation.Kind.MUNICIPALITY, name="C町", region=world.town.region
    )
    south = world.village
    for day in range(1, 11):
        world.contact(None, when=at(2026, 9, day), organisation=world.town, channel="phone")
    for day in range(1, 21):
        world.contact(None, when=at(2026, 9, day), organisation=neighbour, channel="phone")
    for day in range(1, 21):
        for hour in (9, 15):
            world.contact(None, when=at(2026, 9, day, hour), organisation=south, channel="phone")
    for day in range(1, 11):
        world.contact(None, when=at(2026, 10, day), organisation=south, channel="phone")
    world.contact(None, when=at(2026, 10, 20), organisation=neighbour, channel="phone")
    # A second southern town, busy both months: the prefecture's October is not the
    # village's and the neighbour's alone (each would read the other's part in it).
    second = make_organisation(Organisation.Kind.MUNICIPALITY, name="D村", region=south.region)
    for month in (9, 10):
        for day in range(1, 16):
            for hour in (9, 15):
                world.contact(
                    None, when=at(2026, month, day, hour), organisation=second, channel="phone"
                )
    september = publish("contacts", 2026, today=datetime.date(2026, 10, 5))
    assert september is not None and september.as_of == datetime.date(2026, 9, 30)
    if not carry_earlier:
        Publication.objects.all().delete()
    october = publish("contacts", 2026, today=datetime.date(2026, 11, 5))
    assert october is not None and october.as_of == datetime.date(2026, 10, 31)
    if not carry_earlier:
        from indicators.disclosure.publication import shown_earlier

        october.earlier = shown_earlier(september)  # what the attacker kept
    return october


def test_a_month_end_publication_cannot_be_subtracted_from_the_last_one(world):
    # The attack: October's table minus September's is October's rows. Computed alone,
    # October's pattern lets the auditor (holding both) pin something; computed with what
    # September showed kept shown, nothing.
    from indicators.disclosure.publication import audit

    naive = _monthly_publications(world, carry_earlier=False)
    assert audit(naive).leaks, "the crafted data no longer shows the attack"


def test_month_end_publications_carry_what_the_last_one_showed(world):
    from indicators.disclosure.publication import audit

    october = _monthly_publications(world, carry_earlier=True)
    assert october.earlier  # September's shown figures, kept
    assert audit(october).leaks == []
    # Until the year ends only totals and month rows are published.
    dimensions = {d for _s, d, _v, _shown in october.figures}
    assert dimensions == {"", "month"}


def test_people_counts_wait_for_the_end_of_the_year(world):
    world.contact(world.case(opened_on=datetime.date(2026, 5, 1)), when=at(2026, 9, 1))
    during = publish("people_supported", 2026, today=datetime.date(2026, 10, 5))
    assert during is not None and during.figures == []


def test_organisation_figures_are_not_published_and_parameters_read_breakdown_rows(world):
    for day in range(1, 8):
        world.contact(None, when=at(2025, 7, day), organisation=world.town, channel="phone")
    publish("contacts", 2025)
    result = published("contacts", [2025])[2025]
    town = metrics.Scope(metrics.Scope.ORGANISATION, organisation_id=world.town.pk)
    assert result.figure(town) is None
    everywhere = metrics.Scope()
    phone = result.cell({"channel": ["phone"]}, everywhere)
    assert phone == result.figure(everywhere, "channel", "phone")
    # Two parameters at once are a cross-table the query space does not hold.
    assert result.cell({"channel": ["phone"], "consulter": ["self"]}, everywhere) is None


def test_the_operator_publishes_and_audits_from_the_command_line(world):
    _north_with_a_neighbour(world)
    out = io.StringIO()
    call_command("publish_statistics", "--year", "2025", "--metric", "contacts", stdout=out)
    stored = Publication.objects.get(metric="contacts", fiscal_year=2025)
    assert f"{stored.hidden} hidden" in out.getvalue()
    out = io.StringIO()
    call_command("publish_statistics", "--audit", "--year", "2025", stdout=out)
    assert "0 exposed, 0 changed since" in out.getvalue()
    # Shown as the town sees its region (its own part known), a leak is caught: make the
    # north's total shown again and the audit refuses.
    north = query_space.region_scope(world.town.region_id)
    stored.figures = [
        [s, d, v, 11 if (s, d, v) == (north, "", None) else value]
        for s, d, v, value in stored.figures
    ]
    stored.save()
    with pytest.raises(CommandError, match="can be derived"):
        call_command("publish_statistics", "--audit", "--year", "2025", stdout=io.StringIO())


def test_organisations_of_no_region_are_protected_as_the_prefecture_less_the_regions(world):
    # The partner agency belongs to no region: the prefecture's figures less the regions'
    # are its own, so its single contact is a figure to protect.
    assert world.npo.region_id is None
    for day in range(1, 11):
        world.contact(None, when=at(2025, 6, day), organisation=world.town, channel="phone")
    world.contact(None, when=at(2025, 6, 3), organisation=world.npo, channel="phone")
    space = query_space.build(metrics.get("contacts"), FY2025, threshold=3)
    own = space.model.figures[(query_space.NO_REGION, "", None)]
    assert own.value == 1 and own.sensitive
    figures, _hidden = compute(metrics.get("contacts"), FY2025)
    hidden = {(s, d, v) for s, d, v, value in figures if value is None}
    assert (query_space.NO_REGION, "", None) in hidden
    assert leaks(space.model, hidden) == []


def test_the_audit_refuses_a_publication_the_records_have_moved_past(world):
    # Two towns of the north with twenty calls each in June: the prefecture's total (40)
    # is large for outsiders and for each town (the other's 20), so it is shown (the
    # north's own total is hidden: with it, the prefecture's would tell the south's 0).
    neighbour = make_organisation(
        Organisation.Kind.MUNICIPALITY, name="C町", region=world.town.region
    )
    for organisation in (world.town, neighbour):
        for day in range(1, 21):
            world.contact(None, when=at(2025, 6, day), organisation=organisation, channel="phone")
    call_command(
        "publish_statistics", "--year", "2025", "--metric", "contacts", stdout=io.StringIO()
    )
    stored = published("contacts", [2025])[2025]
    assert stored.figure(metrics.Scope()) == 40
    world.contact(None, when=at(2025, 6, 25), organisation=world.town, channel="phone")
    with pytest.raises(CommandError, match="publish again"):
        call_command("publish_statistics", "--audit", "--year", "2025", stdout=io.StringIO())
