"""Owning a plan gives exact figures only over scopes the owner gets exact: a
municipality's plan counting the whole prefecture is suppressed for its own supervisor,
as the metric endpoint suppresses the same scope (outside review F2)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts.roles import Role
from api.models import ApiToken
from casework import services
from casework.periods import fiscal_year
from indicators.disclosure.publication import published_period
from indicators.models import Direction, Indicator, Plan
from tests.api.conftest import TokenClient

pytestmark = pytest.mark.django_db

THIS_YEAR = fiscal_year(timezone.localdate())


def _prefecture_plan(owner):
    plan = Plan.objects.create(
        name="計画", organisation=owner, first_year=THIS_YEAR - 1, last_year=THIS_YEAR + 1
    )
    assert plan.scope_kind == Plan.ScopeKind.PREFECTURE
    direction = Direction.objects.create(plan=plan, number=1, name="相談支援")
    Indicator.objects.create(
        direction=direction, code="1-1", name="相談件数", unit="件", metric="contacts"
    )
    return plan


def _progress(user, plan) -> dict:
    client = TokenClient(ApiToken.issue(user, name="test", days=30)[1])
    answer = client.get(f"/api/v1/plans/{plan.pk}/progress/", {"year": THIS_YEAR})
    assert answer.status_code == 200
    return answer.json()


def test_a_municipalitys_prefecture_plan_hides_small_figures_from_its_own_supervisor(world):
    for _ in range(2):  # a small count, all of it the centre's (another organisation)
        services.log_contact(world.counsellor, channel="phone")
    town_supervisor = world.user(Role.SUPERVISOR, organisation=world.town)

    answer = _progress(town_supervisor, _prefecture_plan(world.town))
    (row,) = answer["rows"]
    assert answer["exact"] is False
    assert row["actual"] == {"value": None, "suppressed": True}
    client = TokenClient(ApiToken.issue(town_supervisor, name="metrics", days=30)[1])
    world.publish(THIS_YEAR, "contacts")
    metric = client.get("/api/v1/metrics/contacts/", {"year": THIS_YEAR, "scope": "prefecture"})
    if published_period(THIS_YEAR) is None:  # April: no month of the year has ended yet
        assert metric.status_code == 404
    else:
        assert metric.json()["exact"] is False  # the same scope, the same answer

    answer = _progress(world.supervisor, _prefecture_plan(world.centre))
    (row,) = answer["rows"]
    assert answer["exact"] is True
    assert row["actual"] == {"value": 2.0, "suppressed": False}


def test_an_indicator_counting_another_organisation_makes_the_plan_inexact(world):
    services.log_contact(world.counsellor, channel="phone")
    town_supervisor = world.user(Role.SUPERVISOR, organisation=world.town)
    plan = _prefecture_plan(world.town)
    plan.scope_kind = Plan.ScopeKind.ORGANISATION
    plan.save()
    Indicator.objects.filter(direction__plan=plan).update(organisation=world.centre)

    answer = _progress(town_supervisor, plan)
    assert answer["exact"] is False
    assert answer["rows"][0]["actual"] == {"value": None, "suppressed": True}
