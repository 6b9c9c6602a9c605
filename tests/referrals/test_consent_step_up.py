"""Withdrawing a referral consent needs a fresh step-up, checked by the service
(accounts.policy), whichever path calls it."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from accounts import reauth
from accounts.policy import STEP_UP, Sensitive
from accounts.reauth import NO_STEP_UP, StepUp, StepUpRequired
from accounts.roles import Role
from casework import services as casework
from referrals import services
from referrals.models import Referral
from tests.factories import make_organisation, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def referral():
    centre = make_organisation()
    counsellor = make_user(Role.COUNSELLOR, organisation=centre)
    case = casework.open_case(counsellor, identity={"name": "同意 試験"}, case_fields={})
    made = services.create_referral(
        counsellor,
        case,
        to_organisation=make_organisation("municipality"),
        kind=Referral.Kind.RESIDENCE_MUNICIPALITY,
    )
    return services.move(counsellor, made, to_status=Referral.Status.SENT), counsellor


def test_the_policy_lists_the_consent_withdrawal():
    assert Sensitive.WITHDRAW_CONSENT in STEP_UP


def test_the_service_refuses_without_a_fresh_step_up(referral):
    made, counsellor = referral
    with pytest.raises(StepUpRequired):
        services.withdraw_consent(counsellor, made, step_up=NO_STEP_UP)
    with pytest.raises(StepUpRequired):
        services.withdraw_consent(counsellor, made, step_up=StepUp(time.time() - 3600))
    made.refresh_from_db()
    assert made.consent_withdrawn_on is None
    services.withdraw_consent(counsellor, made, step_up=StepUp(time.time()))
    made.refresh_from_db()
    assert made.consent_withdrawn_on is not None


def test_the_page_sends_a_stale_session_to_confirm_and_records_nothing(client, referral):
    made, counsellor = referral
    client.force_login(counsellor)
    session = client.session
    session[reauth.AUTHENTICATED_AT] = time.time() - 3600
    session.save()
    url = reverse("referrals:consent_withdraw", args=[made.pk])
    response = client.post(url)
    assert response["Location"].startswith(reverse("accounts:reauthenticate"))
    made.refresh_from_db()
    assert made.consent_withdrawn_on is None
    session = client.session
    session[reauth.AUTHENTICATED_AT] = time.time()
    session.save()
    assert client.post(url).status_code == 302
    made.refresh_from_db()
    assert made.consent_withdrawn_on is not None
