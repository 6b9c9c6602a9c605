"""Consent: no share without it, refused by the form, the service and the database."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from referrals import services
from referrals.models import Referral

pytestmark = pytest.mark.django_db


def test_shares_without_consent_are_refused_by_form_service_and_database(client, setting):
    client.force_login(setting.counsellor)
    response = client.post(
        reverse("referrals:new", kwargs={"code": setting.case.code}),
        {"to_organisation": setting.town.pk, "kind": "residence", "share_basic_profile": "on"},
    )
    assert response.status_code == 200 and "同意がない紹介" in response.content.decode()
    with pytest.raises(ValidationError):
        services.create_referral(
            setting.counsellor,
            setting.case,
            to_organisation=setting.town,
            kind="residence",
            scopes={"share_contacts": True},
        )
    assert Referral.objects.count() == 0
