"""Scoped managers of casework's records (accounts.scoping): the one way request code reads
them, on the one visibility policy (casework.access)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import apps
from django.db.models import Q, QuerySet

from accounts.scoping import ScopedManager

from . import access
from .access import Capability

if TYPE_CHECKING:  # the models module imports this one
    from accounts.models import User

    from .models import Case, Client, Contact, Milestone


def _active(user: User) -> bool:
    return getattr(user, "is_authenticated", False) and user.is_active


def _cases(user: User, capability: Capability = Capability.READ) -> QuerySet[Case]:
    # Through the app registry: the models module imports this one.
    return apps.get_model("casework", "Case").objects.visible_to(user, capability)


class CaseManager(ScopedManager["Case"]):
    def visible_to(self, user: User, capability: Capability = Capability.READ) -> QuerySet[Case]:
        """The cases `user` reaches with `capability`, by any access kind
        (casework.access): one query for the grants, then a filter the indexes answer."""
        if not _active(user):
            return self.none()
        return self._scope_base().filter(access.scope_q(user, capability=capability))

    def kept_by_organisation_of(self, user: User) -> QuerySet[Case]:
        """Every case `user`'s organisation keeps, restricted ones included, whoever may
        read them: for checks that must not miss one (an import's duplicate check by blind
        index), never for showing cases."""
        return self._scope_base().filter(organisation=user.organisation_id)


class ClientManager(ScopedManager["Client"]):
    def visible_to(self, user: User, capability: Capability = Capability.READ) -> QuerySet[Client]:
        """The clients of the cases `user` reaches with `capability`."""
        return self._scope_base().filter(pk__in=_cases(user, capability).values("client_id"))


class ContactManager(ScopedManager["Contact"]):
    def visible_to(self, user: User, cases: QuerySet[Case] | None = None) -> QuerySet[Contact]:
        """Contacts of visible cases, and the anonymous contacts of the user's organisation
        (for those who may see contacts); on a case reached only by transfer read-back,
        only those the user's organisation logged (casework.access.own_records_q). A
        caller that already holds the user's visible cases passes them (`cases`) to save
        their query."""
        cases = _cases(user) if cases is None else cases
        own_records = access.own_records_q(user)
        if not user.has_perm("casework.view_contact"):
            return self._scope_base().filter(Q(case__in=cases) & own_records)
        anonymous = Q(case__isnull=True, organisation_id=user.organisation_id)
        return self._scope_base().filter((Q(case__in=cases) & own_records) | anonymous)


class MilestoneManager(ScopedManager["Milestone"]):
    def visible_to(self, user: User) -> QuerySet[Milestone]:
        """Milestones of the cases `user` may read; on a case reached only by transfer
        read-back, only those recorded by the user's organisation (as the case's timeline
        shows them: casework.selectors.case_timeline)."""
        own_records = access.own_records_q(user, written_by="recorded_by__organisation_id")
        return self._scope_base().filter(Q(case__in=_cases(user)) & own_records)
