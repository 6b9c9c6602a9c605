"""Reads of accounts that other apps share."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import User


def holders_of(permission: str, *, organisation_id: int | None = None) -> QuerySet[User]:
    """Active staff whose role holds `permission` (`app_label.codename`), optionally of one
    organisation: who to tell, who may approve. By permission, never by role name
    (accounts.roles: a role is only the bundle of permissions its group holds)."""
    app_label, codename = permission.split(".", 1)
    users = User.objects.filter(
        is_active=True,
        groups__permissions__content_type__app_label=app_label,
        groups__permissions__codename=codename,
    )
    if organisation_id is not None:
        users = users.filter(organisation_id=organisation_id)
    return users.distinct()
