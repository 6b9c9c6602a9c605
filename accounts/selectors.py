"""Reads of accounts that other apps share."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Organisation, User


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


def case_workers(organisation_id: int | None) -> QuerySet[User]:
    """Who may be a case's lead worker (and who a case list is filtered by): active staff
    of the organisation whose role logs contacts, never an auditor, administrator or
    statistics viewer."""
    return holders_of("casework.add_contact", organisation_id=organisation_id).order_by("username")


def partner_organisations(user: User) -> QuerySet[Organisation]:
    """The active organisations other than `user`'s: where a case may be referred or
    transferred to."""
    active = Organisation.objects.filter(is_active=True)
    if user.organisation_id is None:  # the bootstrap superuser: every one
        return active
    return active.exclude(pk=user.organisation_id)


def municipalities() -> QuerySet[Organisation]:
    """The prefecture's active municipalities: where people live, where programmes are
    held, who refers (choices of forms and grids)."""
    return Organisation.objects.filter(kind=Organisation.Kind.MUNICIPALITY, is_active=True)
