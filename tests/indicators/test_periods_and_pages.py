"""Fiscal-year helpers, and the report pages: charts drawn with no network, bad queries
answered 400 with the reason."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from indicators.periods import Period, era_label, fiscal_year, months_of_fiscal_year

from .conftest import at


def test_fiscal_years_run_april_to_march():
    assert fiscal_year(datetime.date(2025, 3, 31)) == 2024
    assert fiscal_year(datetime.date(2025, 4, 1)) == 2025
    assert Period.fiscal(2025) == Period(datetime.date(2025, 4, 1), datetime.date(2026, 3, 31))
    months = months_of_fiscal_year(2025)
    assert months[0] == datetime.date(2025, 4, 1) and months[-1] == datetime.date(2026, 3, 1)
    assert len(months) == 12


def test_era_names_with_the_first_year_of_reiwa():
    assert era_label(2019) == "令和元年度"
    assert era_label(2024) == "令和6年度"
    assert era_label(2018) == "平成30年度"


def test_labels_for_a_year_an_as_of_cut_and_a_range():
    assert Period.fiscal(2024).label() == "令和6年度（2024）"
    assert Period.fiscal(2024, datetime.date(2024, 12, 31)).label() == "令和6年度（12月31日現在）"
    assert (
        Period(datetime.date(2024, 5, 1), datetime.date(2024, 6, 30)).label()
        == "2024-05-01～2024-06-30"
    )
    # An as-of date after the year's end keeps the whole year; one before its start is refused.
    assert Period.fiscal(2024, datetime.date(2030, 1, 1)) == Period.fiscal(2024)
    with pytest.raises(ValueError):
        Period.fiscal(2024, datetime.date(2024, 3, 31))
    with pytest.raises(ValueError):
        Period(datetime.date(2024, 5, 2), datetime.date(2024, 5, 1))


def test_metric_page_draws_its_chart_inline_and_takes_any_date_range(client, world):
    case = world.case()
    world.contact(case, at(2025, 5, 10))
    world.contact(case, at(2025, 6, 10))
    client.force_login(world.supervisor)
    url = reverse("indicators:metric", args=["contacts"])
    page = client.get(
        url,
        {
            "start": "2025-05-01",
            "end": "2025-05-31",
            "scope": "organisation",
            "organisation": world.centre.pk,
        },
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert 'class="headline"' in html and "<strong>1</strong>" in html  # own organisation: exact
    year = client.get(url, {"year": 2025, "scope": "organisation", "organisation": world.centre.pk})
    html = year.content.decode()
    assert "<svg" in html and "<strong>2</strong>" in html
    assert '<script src="http' not in html and "cdn" not in html.lower()


@pytest.mark.parametrize(
    "query, reason",
    [
        ({"start": "2025-05-01"}, "開始日と終了日の両方"),
        ({"start": "2025-06-01", "end": "2025-05-01"}, "終了日は開始日以降"),
        ({"scope": "region"}, "圏域を選んでください"),
        ({"year": "2025", "p_channel": "fax"}, "fax"),
    ],
)
def test_metric_page_bad_query_is_a_400_with_the_reason(client, world, query, reason):
    client.force_login(world.statistics)
    response = client.get(reverse("indicators:metric", args=["contacts"]), query)
    assert response.status_code == 400
    assert reason in response.content.decode()
    export = client.get(reverse("indicators:metric_export", args=["contacts", "csv"]), query)
    assert export.status_code == 400


def test_unknown_metric_is_a_404(client, world):
    client.force_login(world.statistics)
    assert client.get(reverse("indicators:metric", args=["nonsense"])).status_code == 404
