"""Who may open which case: own organisation, restricted cases, grants, never content for others."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from casework import services
from casework.access import Capability
from casework.models import CaseUserObjectPermission
from casework.selectors import find_visible_case, require_visible, visible_cases

pytestmark = pytest.mark.django_db


def open_case(actor, **case_fields):
    return services.open_case(actor, identity={"name": "アクセス 試験"}, case_fields=case_fields)


def detail(client, user, case):
    client.force_login(user)
    return client.get(reverse("casework:case_detail", kwargs={"code": case.code}))


def test_a_counsellor_sees_the_cases_of_their_own_organisation(client, world):
    case = open_case(world.counsellor)
    assert detail(client, world.colleague, case).status_code == 200


def test_a_counsellor_of_another_organisation_gets_404_even_guessing_the_url(client, world):
    case = open_case(world.counsellor)
    assert detail(client, world.other_counsellor, case).status_code == 404
    for name in ("case_edit", "case_close", "identity_edit"):
        url = reverse(f"casework:{name}", kwargs={"code": case.code})
        assert client.get(url).status_code == 404, name
    assert (
        client.post(reverse("casework:identity_reveal", kwargs={"code": case.code})).status_code
        == 404
    )
    assert case not in visible_cases(world.other_counsellor)


def test_a_restricted_case_is_seen_only_by_its_lead_workers_and_the_supervisor(client, world):
    case = open_case(world.counsellor, restricted=True)
    assert detail(client, world.counsellor, case).status_code == 200  # lead worker
    assert detail(client, world.supervisor, case).status_code == 200
    assert detail(client, world.colleague, case).status_code == 404


@pytest.mark.parametrize("role", ["statistics", "auditor", "admin"])
def test_roles_without_case_access_never_get_case_content(client, world, role):
    case = open_case(world.counsellor)
    user = getattr(world, role)
    client.force_login(user)
    assert (
        client.get(reverse("casework:case_detail", kwargs={"code": case.code})).status_code == 403
    )
    listing = client.get(reverse("casework:case_list"))
    assert listing.status_code == 403
    assert case.code.encode() not in client.get("/").content


def test_the_admin_has_no_casework_pages_at_all(client, world):
    client.force_login(world.admin)
    index = client.get("/admin/")
    assert index.status_code == 200
    assert b"casework" not in index.content
    assert client.get("/admin/casework/case/").status_code == 404
    assert client.get("/admin/casework/contact/").status_code == 404


def test_an_mdt_member_sees_a_case_only_with_an_object_grant(client, world):
    case = open_case(world.counsellor)
    assert detail(client, world.mdt, case).status_code == 404
    CaseUserObjectPermission.objects.create(
        user=world.mdt,
        content_object=case,
        permission=Permission.objects.get(codename="view_case", content_type__app_label="casework"),
    )
    assert detail(client, world.mdt, case).status_code == 200
    assert list(visible_cases(world.mdt)) == [case]


def test_access_found_for_one_user_is_never_used_for_another(world):
    case = open_case(world.counsellor, restricted=True)  # lead worker: the counsellor
    found = find_visible_case(world.counsellor, case.code, related=("client",))
    assert found is not None and found == case
    require_visible(world.counsellor, found, capability=Capability.WRITE)
    # The instance remembers the counsellor's access, and asks again for anyone else:
    # the colleague is not a lead worker.
    with pytest.raises(PermissionDenied):
        require_visible(world.colleague, found)
    with pytest.raises(PermissionDenied):
        services.log_contact(world.colleague, case=found, summary="記録")
    assert find_visible_case(world.colleague, case.code) is None
