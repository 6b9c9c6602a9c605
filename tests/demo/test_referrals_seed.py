"""The demo seed leaves referrals in every state, made through the services."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from referrals.models import Referral, ReferralGroupObjectPermission

pytestmark = pytest.mark.django_db


def test_seed_demo_makes_referrals_in_every_state_with_grants_only_where_accepted():
    call_command("seed_demo", stdout=io.StringIO())
    states = set(Referral.objects.values_list("status", flat=True))
    assert states == set(Referral.Status.values)
    granted = set(
        ReferralGroupObjectPermission.objects.values_list("content_object__status", flat=True)
    )
    assert granted == {Referral.Status.ACCEPTED}
    assert Referral.objects.values("to_organisation").distinct().count() >= 3
    before = Referral.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert Referral.objects.count() == before
