"""Saving the casework demo through casework's bulk writers (`casework.writers`).

The writers apply every rule the single-record services apply (data keys, codes, birth
years, contact snapshots and year keys, lead workers on the first history row, one
history row per record); the demo sets only what it decides itself: who wrote each row
and when (`draw.stamp`), and the change reason naming the seed.
"""

from __future__ import annotations

from casework import writers
from casework.models import Contact, Milestone

from .cases import Plan
from .tables import HISTORY_REASON


def save(
    plans: list[Plan],
    anonymous: list[Contact],
    milestones: list[Milestone],
    counts: dict[str, int],
) -> None:
    """Write everything planned and report how many of each were made in `counts`."""
    writers.bulk_open_cases(
        [
            writers.NewCase(
                case=plan.case,
                client=plan.client,
                lead_worker_ids=[user.pk for user in plan.leads],
            )
            for plan in plans
        ],
        reason=HISTORY_REASON,
    )
    contacts = [c for p in plans for c in p.contacts] + anonymous
    writers.bulk_log_contacts(contacts, reason=HISTORY_REASON)
    writers.bulk_record_milestones(milestones, reason=HISTORY_REASON)

    counts["clients"] = sum(1 for plan in plans if plan.client is not None)
    counts["cases"] = len(plans)
    counts["contacts"] = len(contacts)
    counts["anonymous_contacts"] = len(anonymous)
    counts["milestones"] = len(milestones)
