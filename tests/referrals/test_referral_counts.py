"""What referrals count in the figures: by kind and outcome, days to accept, consultations
from municipal staff."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from casework import services as casework
from referrals import selectors, services
from referrals.models import Referral
from tests.referrals.helpers import (
    S,
    refer,
)

pytestmark = pytest.mark.django_db


def test_counts_by_kind_and_outcome_and_days_to_accept(setting):
    accepted = refer(setting, ())
    declined = services.move(
        setting.counsellor,
        services.create_referral(
            setting.counsellor,
            setting.case,
            to_organisation=setting.town,
            kind=Referral.Kind.IBASHO,
        ),
        to_status=S.SENT,
    )
    services.move(setting.liaison, declined, to_status=S.DECLINED, note="定員")
    Referral.objects.filter(pk=accepted.pk).update(
        sent_at=timezone.now() - datetime.timedelta(days=4), responded_at=timezone.now()
    )
    today = timezone.localdate()
    result = selectors.counts(start=today - datetime.timedelta(days=30), end=today)
    assert result["by_kind_and_status"] == {("residence", "accepted"): 1, ("ibasho", "declined"): 1}
    assert result["total"] == 2
    assert round(result["median_days_to_accept"]) == 4


def test_consultations_from_municipal_staff_are_countable(setting):
    casework.log_contact(
        setting.counsellor, consulter="agency", referring_organisation=setting.town
    )
    casework.log_contact(setting.counsellor, consulter="parent")
    from casework.models import Contact

    agency = Contact.objects.filter(consulter="agency", referring_organisation__kind="municipality")
    assert agency.count() == 1
