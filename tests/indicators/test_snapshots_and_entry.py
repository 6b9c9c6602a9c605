"""Submitted reports keep their figures; supervisors enter targets, figures and
assessments for their own plans only; bad input changes nothing."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from audit.models import Action, Event
from indicators import services
from indicators.disclosure.publication import publish
from indicators.models import Assessment, Indicator, ManualValue, Snapshot, Target
from indicators.reports import progress_report

from .conftest import at

AS_OF = datetime.date(2025, 12, 31)


@pytest.fixture
def plan(world):
    plan = world.plan(
        "提出テスト",
        {"code": "1", "name": "相談件数", "unit": "件", "metric": "contacts"},
        {"code": "2", "name": "SNS投稿件数", "unit": "件"},
    )
    case = world.case()
    for day in (1, 2, 3):
        world.contact(case, at(2025, 6, day))
    return plan


def _row(report, code):
    return next(r for r in report.rows if r.indicator.code == code)


def test_a_snapshot_keeps_its_figures_and_the_live_report_shows_the_change(client, world, plan):
    snapshot = services.submit_report(world.supervisor, plan, year=2025, as_of=AS_OF, note="12月末")
    assert (
        snapshot.figures["rows"][
            str(_row(progress_report(plan, year=2025, as_of=AS_OF, exact=True), "1").indicator.pk)
        ]["actual"]
        == "3"
    )
    assert Event.objects.filter(action=Action.CREATE, object_type="indicators.Snapshot").exists()
    # Records added afterwards, inside the reported period (a late entry).
    world.contact(world.case(), at(2025, 12, 20))
    world.contact(world.case(), at(2025, 12, 21))

    snapshot.refresh_from_db()
    client.force_login(world.supervisor)
    frozen = client.get(reverse("indicators:snapshot", args=[snapshot.pk])).content.decode()
    assert ">3<" in frozen and ">5<" not in frozen

    live = progress_report(plan, year=2025, as_of=AS_OF, exact=True)
    row = _row(live, "1")
    assert row.actual.value == 5 and row.changed and row.submitted["actual"] == "3"
    assert not _row(live, "2").changed
    page = client.get(
        reverse("indicators:progress", args=[plan.pk]), {"year": 2025, "as_of": "2025-12-31"}
    )
    assert "提出時：3" in page.content.decode()
    # Outside the owning organisation the report reads the year's publication: no
    # earlier as-of date (two cuts subtracted would give the late entries), no change.
    publish("contacts", 2025)
    client.force_login(world.statistics)
    refused = client.get(
        reverse("indicators:progress", args=[plan.pk]), {"year": 2025, "as_of": "2025-12-31"}
    )
    assert refused.status_code == 400 and "基準日は指定できません" in refused.content.decode()
    page = client.get(reverse("indicators:progress", args=[plan.pk]), {"year": 2025})
    assert page.status_code == 200
    assert "提出後に変更あり" not in page.content.decode()
    assert "提出時：3" not in page.content.decode()


def test_only_the_owning_organisations_supervisor_submits(world, plan):
    with pytest.raises(PermissionDenied):
        services.submit_report(world.town_supervisor, plan, year=2025, as_of=AS_OF)
    with pytest.raises(PermissionDenied):
        services.submit_report(world.statistics, plan, year=2025, as_of=AS_OF)
    assert not Snapshot.objects.exists()


def test_submit_refuses_a_year_outside_the_plan_with_a_message(client, world, plan):
    client.force_login(world.supervisor)
    response = client.post(
        reverse("indicators:submit", args=[plan.pk]),
        {"year": 2030, "as_of": "2030-06-30"},
        follow=True,
    )
    assert "計画期間外" in response.content.decode()
    assert not Snapshot.objects.exists()


def test_supervisor_enters_target_manual_value_and_assessment(client, world, plan):
    manual = Indicator.objects.get(code="2")
    url = reverse("indicators:indicator_edit", args=[plan.pk, manual.pk]) + "?year=2025"
    client.force_login(world.supervisor)
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "target": "40",
            "manual_value": "31",
            "source_note": "広報課の記録",
            "status_override": "mostly",
            "override_reason": "下半期に増やす",
            "check_text": "投稿の頻度が低い",
        },
    )
    assert response.status_code == 302
    assert Target.objects.get(indicator=manual, fiscal_year=2025).value == 40
    assert (
        ManualValue.objects.get(indicator=manual, fiscal_year=2025).entered_by == world.supervisor
    )
    assert Assessment.objects.get(indicator=manual, fiscal_year=2025).status_override == "mostly"
    row = _row(progress_report(plan, year=2025, exact=True), "2")
    # 31 / 40 = 77.5% → やや遅れ by the thresholds, 概ね順調 by the override.
    assert row.ratio == 77.5 and row.computed_status == "delayed" and row.status == "mostly"
    event = Event.objects.get(action=Action.UPDATE, object_type="indicators.Indicator")
    assert set(event.detail["changed"]) == {"target", "manual_value", "assessment"}
    sheet = client.get(reverse("indicators:sheet", args=[plan.pk, manual.pk]), {"year": 2025})
    assert "投稿の頻度が低い" in sheet.content.decode() and "概ね順調" in sheet.content.decode()


def test_bad_entries_re_render_with_errors_and_change_nothing(client, world, plan):
    manual = Indicator.objects.get(code="2")
    url = reverse("indicators:indicator_edit", args=[plan.pk, manual.pk]) + "?year=2025"
    client.force_login(world.supervisor)
    response = client.post(url, {"target": "-5", "manual_value": "10", "status_override": "mostly"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "出典・根拠を入れてください" in page and "理由を入力してください" in page
    assert not Target.objects.exists() and not ManualValue.objects.exists()
    assert not Assessment.objects.exists()


def test_another_organisations_supervisor_cannot_enter_figures(client, world, plan):
    manual = Indicator.objects.get(code="2")
    client.force_login(world.town_supervisor)
    url = reverse("indicators:indicator_edit", args=[plan.pk, manual.pk]) + "?year=2025"
    assert client.post(url, {"target": "1"}).status_code == 403
    assert not Target.objects.exists()
