"""Who gets exact figures and who works on a plan: indicators.policy, the one place it is
decided, and the screens and the API that only render it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Organisation
from accounts.roles import Role
from indicators import metrics, policy, selectors
from indicators.models import Direction, Indicator, Plan
from tests.factories import make_organisation, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def plans():
    centre = make_organisation(Organisation.Kind.PREFECTURE_CENTRE)
    town = make_organisation(Organisation.Kind.MUNICIPALITY)
    plan = Plan.objects.create(name="計画", organisation=centre, first_year=2024, last_year=2026)
    direction = Direction.objects.create(plan=plan, number=1, name="方向")
    Indicator.objects.create(
        direction=direction, code="1", name="相談", unit="件", metric="contacts"
    )
    return centre, town, plan


def test_only_the_owners_supervisors_get_a_plans_figures_exact(plans):
    centre, town, plan = plans
    owner = make_user(Role.SUPERVISOR, organisation=centre)
    assert policy.exact_for_plan(owner, plan)
    assert policy.may_submit(owner, plan) and policy.may_assess(owner, plan)
    for outsider in (
        make_user(Role.SUPERVISOR, organisation=town),
        make_user(Role.STATISTICS_VIEWER, organisation=centre),
    ):
        assert not policy.exact_for_plan(outsider, plan)
        assert not policy.may_submit(outsider, plan)


def test_region_and_prefecture_figures_are_exact_only_for_the_prefectural_centre(plans):
    centre, town, _plan = plans
    at_centre = make_user(Role.SUPERVISOR, organisation=centre)
    in_town = make_user(Role.SUPERVISOR, organisation=town)
    prefecture = metrics.Scope()
    assert policy.exact_for_scope(at_centre, prefecture)
    assert not policy.exact_for_scope(in_town, prefecture)
    own_town = metrics.Scope(metrics.Scope.ORGANISATION, organisation_id=town.pk)
    assert policy.exact_for_scope(in_town, own_town)
    assert not policy.exact_for_scope(at_centre, own_town)


def test_every_statistics_reader_sees_every_plan_and_nobody_else_any(plans):
    centre, town, plan = plans
    assert list(selectors.plans(make_user(Role.STATISTICS_VIEWER, organisation=town))) == [plan]
    assert list(selectors.plans(make_user(Role.COUNSELLOR, organisation=centre))) == []


def test_the_screen_and_the_api_give_the_same_exactness(client, plans):
    centre, town, plan = plans
    for user, exact in (
        (make_user(Role.SUPERVISOR, organisation=centre), True),
        (make_user(Role.SUPERVISOR, organisation=town), False),
    ):
        client.force_login(user)
        answer = client.get(reverse("api:plan_progress", args=[plan.pk]), {"year": 2025})
        assert answer.json()["exact"] is exact
        page = client.get(reverse("indicators:progress", args=[plan.pk]), {"year": 2025})
        assert page.context["report"].exact is exact
