"""Lead workers are staff whose role works on cases: the edit screen offers no one else,
and the services refuse anyone else whoever calls them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from casework import services
from casework.models import Case

pytestmark = pytest.mark.django_db


def test_the_edit_screen_offers_only_case_workers_and_refuses_a_forged_choice(client, world):
    case = services.open_case(world.counsellor, identity={"name": "担当 試験"})
    client.force_login(world.supervisor)
    url = reverse("casework:case_edit", kwargs={"code": case.code})
    page = client.get(url).content.decode()
    assert f'value="{world.colleague.pk}"' in page
    for outsider in (world.auditor, world.admin, world.statistics):
        assert f'value="{outsider.pk}"' not in page
    form = {
        "status": "active",
        "withdrawal_band": "unknown",
        "summary": "",
        "version": case.version,
        "lead_workers": [world.counsellor.pk, world.auditor.pk],
    }
    response = client.post(url, form)
    assert response.status_code == 200
    assert list(Case.objects.get(pk=case.pk).lead_workers.all()) == [world.counsellor]


def test_the_services_refuse_a_lead_worker_whose_role_does_not_work_on_cases(world):
    with pytest.raises(ValidationError) as refused:
        services.open_case(
            world.counsellor,
            identity={"name": "担当 試験"},
            lead_workers=[world.counsellor, world.statistics],
        )
    assert "担当者にできない" in str(refused.value)
    assert not Case.objects.exists()
    case = services.open_case(world.counsellor, identity={"name": "担当 試験"})
    with pytest.raises(ValidationError):
        services.update_case(
            world.supervisor,
            case,
            expected_version=case.version,
            changes={},
            lead_workers=[world.admin],
        )
    assert list(Case.objects.get(pk=case.pk).lead_workers.all()) == [world.counsellor]
    services.update_case(
        world.supervisor,
        case,
        expected_version=case.version,
        changes={},
        lead_workers=[world.colleague],
    )
    assert list(Case.objects.get(pk=case.pk).lead_workers.all()) == [world.colleague]
