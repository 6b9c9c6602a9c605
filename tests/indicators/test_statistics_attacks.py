"""The outside review's combination attacks, performed through HTTP as another
organisation's statistics viewer: two filters subtracted, two periods a day apart, a
region less its towns, a ratio or status band of a hidden figure, a cumulative figure
less the shown years. Each got a figure the tables hid when every page suppressed its
own table; now every answer is read from the year's publication or refused."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Organisation
from accounts.roles import Role
from api.models import ApiToken
from indicators.disclosure import space as query_space
from indicators.disclosure.audit import leaks
from indicators.disclosure.publication import audit, published
from indicators.models import Target
from tests.api.conftest import TokenClient
from tests.factories import make_organisation

from .conftest import at
from .test_suppression import _cells

YEAR = 2025  # closed: published whole, every breakdown


@pytest.fixture
def attacker(world):
    """A statistics viewer of the village (the south): no exact figure of the north."""
    return world.user(Role.STATISTICS_VIEWER, organisation=world.village)


@pytest.fixture
def north(world):
    """The town with ten phone calls and one e-mail in June; a neighbouring town of the
    north with one phone call, the figure the attacks are after."""
    neighbour = make_organisation(
        Organisation.Kind.MUNICIPALITY, name="C町", region=world.town.region
    )
    for day in range(1, 11):
        world.contact(None, when=at(YEAR, 6, day), organisation=world.town, channel="phone")
    world.contact(None, when=at(YEAR, 6, 11), organisation=world.town, channel="email")
    world.contact(None, when=at(YEAR, 6, 3), organisation=neighbour, channel="phone")
    for day in range(1, 21):  # the south: large enough to publish
        world.contact(None, when=at(YEAR, 7, day), organisation=world.village, channel="phone")
    # Two more towns, one in each region, so that no region is one organisation and its
    # neighbour (every figure of theirs would be the other's to an insider).
    for region, month in ((world.town.region, 6), (world.village.region, 7)):
        town = make_organisation(Organisation.Kind.MUNICIPALITY, name=f"{month}町", region=region)
        for day in range(1, 31):
            world.contact(None, when=at(YEAR, month, day), organisation=town, channel="phone")
    world.publish(YEAR)
    return neighbour


def _api(user) -> TokenClient:
    return TokenClient(ApiToken.issue(user, name="attack", days=30)[1])


def _metric_url() -> str:
    return reverse("indicators:metric", args=["contacts"])


def test_two_filters_cannot_be_subtracted(client, world, attacker, north):
    client.force_login(attacker)
    for params in ({"p_channel": ["phone", "email"]}, {"p_channel": ["phone"]}):
        page = client.get(_metric_url(), {"year": YEAR, **params})
        assert page.status_code == 400
        assert "公表値" not in page.content.decode() or "条件" in page.content.decode()
        assert page.context["form"].non_field_errors()
        answer = _api(attacker).get("/api/v1/metrics/contacts/", {"year": YEAR, **params})
        assert answer.status_code == 400 and answer.json()["detail"]
    export = client.get(
        reverse("indicators:metric_export", args=["contacts", "csv"]),
        {"year": YEAR, "p_channel": ["email"]},
    )
    assert export.status_code == 400


def test_two_periods_a_day_apart_cannot_be_subtracted(client, world, attacker, north):
    client.force_login(attacker)
    for start, end in (("2025-06-01", "2025-06-02"), ("2025-06-01", "2025-06-03")):
        page = client.get(_metric_url(), {"start": start, "end": end})
        assert page.status_code == 400
        answer = _api(attacker).get("/api/v1/metrics/contacts/", {"start": start, "end": end})
        assert answer.status_code == 400 and answer.json()["detail"]
    # An earlier as-of date of a published year is a second cut of it.
    page = client.get(_metric_url(), {"year": YEAR, "as_of": "2025-06-02"})
    assert page.status_code == 400
    plan = world.plan("攻撃", {"code": "1", "name": "相談件数", "unit": "件", "metric": "contacts"})
    progress = client.get(
        reverse("indicators:progress", args=[plan.pk]), {"year": YEAR, "as_of": "2025-06-02"}
    )
    assert progress.status_code == 400


def test_one_organisation_is_not_asked_and_the_region_hides_what_its_towns_give(
    client, world, attacker, north
):
    client.force_login(attacker)
    alone = {"year": YEAR, "scope": "organisation", "organisation": north.pk}
    assert client.get(_metric_url(), alone).status_code == 400
    assert _api(attacker).get("/api/v1/metrics/contacts/", alone).status_code == 400

    # Everything the attacker can read of the north and the prefecture, through the API,
    # is the publication's figures: nothing else comes out of any of them.
    shown = {}
    for scope in ({"scope": "region", "region": world.town.region_id}, {"scope": "prefecture"}):
        answer = _api(attacker).get("/api/v1/metrics/contacts/", {"year": YEAR, **scope})
        assert answer.status_code == 200
        body = answer.json()
        code = (
            query_space.region_scope(world.town.region_id)
            if scope["scope"] == "region"
            else query_space.PREFECTURE
        )
        shown[(code, "", None)] = body["total"]["value"]
        for breakdown in body["breakdowns"]:
            for row in breakdown["rows"]:
                shown[(code, breakdown["dimension"], row["key"])] = row["value"]
    publication = published("contacts", [YEAR])[YEAR]
    stored = {(s, d, str(v)): value for (s, d, v), value in publication.figures.items()}
    for (code, dimension, key), value in shown.items():
        if value is not None:
            assert stored[(code, dimension, str(key))] == value, (code, dimension, key)
    assert any(value is not None for value in shown.values())
    # And those figures pin no hidden one, for outsiders or for the town knowing its own.
    checked = audit(world_publication(YEAR))
    assert checked.leaks == [] and checked.hidden > 0
    # The neighbour's single call is nowhere to be read.
    north_code = query_space.region_scope(world.town.region_id)
    assert shown[(north_code, "", None)] is None or shown[(north_code, "", None)] >= 3


def world_publication(year):
    from indicators.models import Publication

    return Publication.objects.get(metric="contacts", fiscal_year=year)


def test_a_hidden_figure_hides_its_ratio_status_and_cumulative(client, world, attacker, north):
    """The prefecture's e-mail contacts (one) against a target of 100: 1.0 % would give
    the hidden 1; so would a cumulative total less the shown years."""
    plan = world.plan(
        "メール相談",
        {
            "code": "1",
            "name": "メール相談件数",
            "unit": "件",
            "metric": "contacts",
            "metric_params": {"channel": ["email"]},
        },
        {
            "code": "2",
            "name": "メール相談件数（累計）",
            "unit": "件",
            "metric": "contacts",
            "metric_params": {"channel": ["email"]},
            "accumulation": "cumulative",
        },
    )
    for indicator in plan.directions.get().indicators.all():
        for year in (2024, YEAR):
            Target.objects.create(indicator=indicator, fiscal_year=year, value=100)
    world.publish(2024)
    answer = _api(attacker).get(f"/api/v1/plans/{plan.pk}/progress/", {"year": YEAR})
    assert answer.status_code == 200
    rows = {row["indicator"]["code"]: row for row in answer.json()["rows"]}
    assert rows["1"]["actual"] == {"value": None, "suppressed": True}
    assert rows["1"]["ratio"] is None and rows["1"]["ratio_shown"] is None
    assert rows["1"]["status"] is None
    assert rows["2"]["cumulative"] == {"value": None, "suppressed": True}
    assert rows["2"]["ratio"] is None and rows["2"]["status"] is None

    client.force_login(attacker)
    page = client.get(reverse("indicators:progress", args=[plan.pk]), {"year": YEAR})
    assert page.status_code == 200
    # The owner's row shows the figure, its ratio and its status; the attacker's row
    # shows none of them where they differ.
    client.force_login(world.supervisor)
    owner = client.get(reverse("indicators:progress", args=[plan.pk]), {"year": YEAR})
    for code in ("1", "2"):
        seen, exact = _cells(page.content.decode(), code), _cells(owner.content.decode(), code)
        differing = [(a, o) for a, o in zip(seen, exact, strict=True) if a != o]
        assert differing, code
        assert all(a in ("x", "", "—") for a, _o in differing), differing


def test_the_attackers_view_is_what_the_auditor_checked(world, north):
    """The insider attack of the review, on the stored publication: the town, knowing its
    own eleven contacts, subtracts them from every figure shown of the north."""
    from indicators import metrics
    from indicators.periods import Period

    stored = world_publication(YEAR)
    space = query_space.build(
        metrics.get("contacts"), Period.fiscal(YEAR), threshold=3, earlier=stored.earlier
    )
    hidden = {(s, d, v) for s, d, v, value in stored.figures if value is None}
    assert leaks(space.model, hidden) == []
    for view in space.insiders.values():
        assert leaks(view, hidden) == []


def test_an_organisation_reads_no_neighbours_small_part_off_a_shown_figure(world):
    """Outside review, finding 2: the region's October shown as 11 to the town that
    recorded 10 of them gives its neighbour's 1. For every figure of the north shown,
    the shown value less the town's own exact part is 0 or at least 3."""
    from indicators import metrics
    from indicators.disclosure.publication import published
    from indicators.periods import Period

    neighbour = make_organisation(
        Organisation.Kind.MUNICIPALITY, name="C町", region=world.town.region
    )
    # Busy every month in both regions, so that month rows are shown at all.
    for month in (*range(4, 13), 1, 2, 3):
        year = YEAR if month >= 4 else YEAR + 1
        for day in range(1, 11):
            world.contact(None, when=at(year, month, day), organisation=world.town)
            world.contact(None, when=at(year, month, day), organisation=world.village)
    world.contact(None, when=at(YEAR, 10, 20), organisation=neighbour)
    world.publish(YEAR, "contacts")
    north = metrics.Scope(metrics.Scope.REGION, region_id=world.town.region_id)
    own_scope = metrics.Scope(metrics.Scope.ORGANISATION, organisation_id=world.town.pk)
    cell = metrics.Cell.of("contacts", {}, Period.fiscal(YEAR))
    own: dict[tuple[str, object], int] = {("", None): metrics.evaluate([cell], own_scope)[cell]}
    metric = metrics.get("contacts")
    for dimension in metric.dimensions:
        for row in metrics.breakdown(cell, own_scope, dimension.key):
            own[(dimension.key, query_space.value_code(row.key))] = row.value
    publication = published("contacts", [YEAR])[YEAR]
    code = query_space.scope_code(north)
    for (scope, dimension_key, value), shown in publication.figures.items():
        if scope != code or shown is None:
            continue
        others = shown - own.get((dimension_key, value), 0)
        assert others == 0 or others >= 3, (dimension_key, value, shown, others)
    assert publication.figures[(code, "month", f"{YEAR}-10-01")] is None


def test_people_in_the_prefecture_less_its_regions_give_no_small_region(world):
    """Outside review, finding 1: nobody is counted in two regions, so the prefecture's
    people are the regions' sum; a region's hidden 1 must not be the prefecture's shown
    row less the other regions' shown rows."""
    from indicators.disclosure.publication import published

    def people(organisation, count: int, month: int) -> None:
        for _ in range(count):
            case = world.case(opened_on=at(YEAR, 4, 1).date(), organisation=organisation)
            world.contact(case, when=at(YEAR, month, 5))

    people(world.town, 1, 8)  # the north's one person in August
    people(world.village, 12, 8)
    other_south = make_organisation(
        Organisation.Kind.MUNICIPALITY, name="E村", region=world.village.region
    )
    people(other_south, 12, 8)
    world.publish(YEAR, "people_supported")
    figures = published("people_supported", [YEAR])[YEAR].figures
    regions = sorted({s for s, _d, _v in figures if s.startswith("r")})
    pinned = []
    for (scope, dimension, value), shown in figures.items():
        if scope != query_space.PREFECTURE or shown is None:
            continue
        rows = {r: figures.get((r, dimension, value)) for r in regions}
        hidden = [r for r, v in rows.items() if v is None]
        if len(hidden) == 1:
            derived = shown - sum(v for v in rows.values() if v is not None)
            if 0 < derived < 3:
                pinned.append((hidden[0], dimension, value, derived))
    assert pinned == []


@pytest.mark.parametrize(
    "params",
    [
        {"start": "0001-01-01", "end": "0001-01-02"},
        {"start": "9999-12-30", "end": "9999-12-31"},
    ],
)
def test_dates_no_fiscal_year_can_hold_are_a_400(client, world, attacker, params):
    client.force_login(attacker)
    assert client.get(_metric_url(), params).status_code == 400
    answer = _api(attacker).get("/api/v1/metrics/contacts/", params)
    assert answer.status_code == 400


def test_an_organisation_subtracting_its_own_figures_over_http_finds_no_neighbours_one(world):
    """Outside review, finding 2, as the reviewer did it: in the current year (totals
    and months published), the town's supervisor reads the north's month rows through
    the API and its own exact ones; the difference is never a neighbour's 1 or 2."""
    import datetime as dt

    from django.utils import timezone

    from casework.periods import fiscal_year
    from indicators.disclosure.publication import published_period

    this_year = fiscal_year(timezone.localdate())
    cut = published_period(this_year)
    if cut is None:  # April: no month of the year has ended, nothing to read
        return
    neighbour = make_organisation(
        Organisation.Kind.MUNICIPALITY, name="C町", region=world.town.region
    )
    month = cut.start
    while month <= cut.end:
        for day in range(1, 11):
            for organisation in (world.town, world.village):
                world.contact(
                    None, when=at(month.year, month.month, day), organisation=organisation
                )
        last = month
        month = (month + dt.timedelta(days=32)).replace(day=1)
    world.contact(None, when=at(last.year, last.month, 20), organisation=neighbour)
    world.publish(this_year, "contacts")

    town = _api(world.user(Role.SUPERVISOR, organisation=world.town))
    region = town.get(
        "/api/v1/metrics/contacts/",
        {"year": this_year, "scope": "region", "region": world.town.region_id},
    ).json()
    own = town.get(
        "/api/v1/metrics/contacts/",
        {"year": this_year, "scope": "organisation", "organisation": world.town.pk},
    ).json()
    assert region["exact"] is False and own["exact"] is True

    def months(answer) -> dict:
        (found,) = [b for b in answer["breakdowns"] if b["dimension"] == "month"]
        return {row["key"]: row["value"] for row in found["rows"]}

    own_months = months(own)
    for key, shown in months(region).items():
        if shown is not None:
            others = shown - (own_months.get(key) or 0)
            assert others == 0 or others >= 3, (key, shown, others)
    others_total = (region["total"]["value"] or 0) - own["total"]["value"]
    assert region["total"]["value"] is None or others_total == 0 or others_total >= 3
