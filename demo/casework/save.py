"""Saving the casework demo: bulk inserts with the history rows the services would write.

Bulk inserts call neither `save()` nor the history signals, so this module sets what
those would have set: unique codes and the lead workers' history rows. Field encryption
and blind indexes still happen, in the fields' `pre_save`.
"""

from __future__ import annotations

from simple_history.utils import bulk_create_with_history

from casework.models import Case, Client, Contact, DataKey, Milestone, new_code

from .cases import Plan
from .tables import HISTORY_REASON


def save(
    plans: list[Plan],
    anonymous: list[Contact],
    milestones: list[Milestone],
    keys: list[DataKey],
    counts: dict[str, int],
) -> None:
    """Insert everything planned and report how many of each were made in `counts`."""
    clients = [p.client for p in plans if p.client is not None]
    cases = [p.case for p in plans]
    contacts = [c for p in plans for c in p.contacts] + anonymous
    _unique_codes(Client, clients, "P")
    _unique_codes(Case, cases, "C")

    DataKey.objects.bulk_create(keys)
    bulk_create_with_history(clients, Client, default_change_reason=HISTORY_REASON)
    bulk_create_with_history(cases, Case, default_change_reason=HISTORY_REASON)
    _save_lead_workers(plans)
    bulk_create_with_history(contacts, Contact, default_change_reason=HISTORY_REASON)
    bulk_create_with_history(milestones, Milestone, default_change_reason=HISTORY_REASON)

    counts["clients"] = len(clients)
    counts["cases"] = len(cases)
    counts["contacts"] = len(contacts)
    counts["anonymous_contacts"] = len(anonymous)
    counts["milestones"] = len(milestones)


def _save_lead_workers(plans: list[Plan]) -> None:
    """The through rows, and their history attached to each case's first history row
    (which is what `lead_workers.set()` would have recorded on a later one)."""
    through = Case.lead_workers.through
    through.objects.bulk_create(
        [through(case_id=p.case.pk, user_id=u.pk) for p in plans for u in p.leads]
    )
    case_ids = [p.case.pk for p in plans]
    history_ids = dict(
        Case.history.filter(id__in=case_ids, history_type="+").values_list("id", "history_id")
    )
    rows = through.objects.filter(case_id__in=case_ids).values_list("id", "case_id", "user_id")
    historical = Case.history.model.lead_workers.model
    historical.objects.bulk_create(
        [
            historical(id=pk, case_id=case_id, user_id=user_id, history_id=history_ids[case_id])
            for pk, case_id, user_id in rows
        ]
    )


def _unique_codes(model: type[Client | Case], rows: list, prefix: str) -> None:
    """Codes unique among the new rows and the stored ones. A clash among 32^6 codes is
    unlikely, but it would abort the whole bulk insert, so it is ruled out first."""
    while True:
        seen: set[str] = set()
        for row in rows:
            while row.code in seen:
                row.code = new_code(prefix)
            seen.add(row.code)
        taken = set(model.objects.filter(code__in=seen).values_list("code", flat=True))
        if not taken:
            return
        for row in rows:
            if row.code in taken:
                row.code = new_code(prefix)
