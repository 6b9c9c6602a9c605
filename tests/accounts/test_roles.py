"""Roles are groups whose permissions come from the migrations, and match the spec."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from accounts.roles import CASE_CONTENT_PERMISSIONS, ROLE_PERMISSIONS, Role

pytestmark = pytest.mark.django_db


def migrated_permissions(role: Role) -> set[str]:
    group = Group.objects.get(name=role.value)
    return {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


@pytest.mark.parametrize("role", list(Role))
def test_each_role_group_holds_exactly_its_specified_permissions(role):
    assert migrated_permissions(role) == set(ROLE_PERMISSIONS[role])


@pytest.mark.parametrize("role", [Role.STATISTICS_VIEWER, Role.AUDITOR, Role.SYSTEM_ADMIN])
def test_roles_that_must_never_see_case_content_hold_no_content_permission(role):
    assert migrated_permissions(role) & CASE_CONTENT_PERMISSIONS == set()


def test_content_permissions_named_in_the_spec_exist():
    for role in Role:
        for name in ROLE_PERMISSIONS[role]:
            app, codename = name.split(".")
            assert Group.objects.filter(
                permissions__content_type__app_label=app, permissions__codename=codename
            ).exists(), name


def holders(permission: str) -> set[str]:
    return {role.value for role in Role if permission in migrated_permissions(role)}


def test_a_role_that_sees_case_content_or_is_privileged_needs_a_second_persons_approval():
    from accounts.roles import APPROVAL_ROLES, PRIVILEGED_ROLES, sees_case_content

    # Only the statistics viewer sees neither case content nor holds a privilege.
    assert set(Role) - APPROVAL_ROLES == {Role.STATISTICS_VIEWER}
    assert {Role.SUPERVISOR, Role.AUDITOR, Role.SYSTEM_ADMIN} == PRIVILEGED_ROLES
    for role in Role:
        if migrated_permissions(role) & CASE_CONTENT_PERMISSIONS:
            assert sees_case_content(role), role


def test_only_supervisors_and_statistics_viewers_read_statistics():
    assert holders("accounts.view_statistics") == {Role.SUPERVISOR, Role.STATISTICS_VIEWER}
    # Administrators keep the plans in the admin without reading their figures.
    assert "indicators.change_plan" in migrated_permissions(Role.SYSTEM_ADMIN)


def test_supervisors_approve_their_staff_and_administrators_each_other():
    assert holders("accounts.approve_staff_change") == {Role.SUPERVISOR}
    assert holders("accounts.approve_privileged_change") == {Role.SYSTEM_ADMIN}


def test_no_role_edits_groups_or_raw_permissions():
    for name in ("auth.add_group", "auth.change_group", "auth.delete_group"):
        assert holders(name) == set(), name
    assert holders("accounts.delete_user") == set()
