"""Changing a case's information-sharing consent date needs a fresh step-up, checked by
casework.services.update_case through accounts.policy (the page used to check it alone)."""

from __future__ import annotations

import datetime
import time

import pytest

from accounts.policy import STEP_UP, Sensitive
from accounts.reauth import NO_STEP_UP, StepUp, StepUpRequired
from accounts.roles import Role
from casework import services
from casework.models import Case
from tests.factories import make_organisation, make_user

pytestmark = pytest.mark.django_db


def test_the_service_refuses_a_consent_date_change_without_a_fresh_step_up():
    assert Sensitive.SHARING_CONSENT in STEP_UP
    counsellor = make_user(Role.COUNSELLOR, organisation=make_organisation())
    case = services.open_case(counsellor, identity={"name": "同意日 試験"}, case_fields={})
    consent = {"sharing_consent_on": datetime.date(2025, 6, 1)}
    with pytest.raises(StepUpRequired):
        services.update_case(
            counsellor, case, expected_version=case.version, changes=consent, step_up=NO_STEP_UP
        )
    assert Case.objects.get(pk=case.pk).sharing_consent_on is None
    # Other changes need none.
    case = services.update_case(
        counsellor, case, expected_version=case.version, changes={"summary": "経過"}
    )
    services.update_case(
        counsellor,
        case,
        expected_version=case.version,
        changes=consent,
        step_up=StepUp(time.time()),
    )
    assert Case.objects.get(pk=case.pk).sharing_consent_on == datetime.date(2025, 6, 1)
