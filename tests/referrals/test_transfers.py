"""Transfers: the case moves, the old organisation reads only what it wrote, until the
read-back ends."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.roles import Role
from casework import services as casework
from referrals import services
from tests.referrals.helpers import (
    CONTACT,
)

pytestmark = pytest.mark.django_db


def test_a_transfer_moves_the_case_and_the_old_organisation_reads_only_what_it_wrote(
    client, setting
):
    supervisor = setting.world.supervisor
    town_counsellor = setting.world.user(Role.COUNSELLOR, organisation=setting.town)
    transfer = services.transfer_case(supervisor, setting.case, to_organisation=setting.town)
    setting.case.refresh_from_db()
    casework.log_contact(town_counsellor, case=setting.case, summary="移管先の記録")

    client.force_login(setting.counsellor)
    page = client.get(reverse("casework:case_detail", kwargs={"code": setting.case.code}))
    assert page.status_code == 200
    assert CONTACT in page.content.decode() and "移管先の記録" not in page.content.decode()

    client.force_login(town_counsellor)
    page = client.get(
        reverse("casework:case_detail", kwargs={"code": setting.case.code})
    ).content.decode()
    assert CONTACT in page and "移管先の記録" in page

    services.end_transfer_access(supervisor, transfer)
    setting.counsellor = type(setting.counsellor).objects.get(pk=setting.counsellor.pk)
    client.force_login(setting.counsellor)
    assert (
        client.get(reverse("casework:case_detail", kwargs={"code": setting.case.code})).status_code
        == 404
    )
