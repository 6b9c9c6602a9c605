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
