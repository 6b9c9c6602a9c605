"""Demo casework for the demo prefecture (Mie): about two fiscal years of a centre's work.

`seed(context)` is the casework part of `manage.py seed_demo`. It adds about 250 cases at
the prefectural centre and about 20 at each of four municipal windows, some 3,000 contacts
spread over the previous and the current fiscal year (about 15% of them anonymous), some
60 milestones, and a few open follow-ups for the demo counsellor and outreach worker.
Everything is synthetic and says so: every person is named デモ, every phone number
starts 000-0000, every address is in デモ町 and every free text begins with 【デモ】.

Rows go in through casework's bulk writers (`casework.writers`, the rules the services
write by), not through `services`: the services run one audited transaction per record,
far too slow for thousands of rows, and the seed command records one audit event for the
whole import.

The parts, in the order a run goes through them: `tables` (the distributions and texts),
`draw` (the seeded randomness), `cases` (people and cases), `contacts` (what happened on
them), `save` (through the bulk writers).
"""

from __future__ import annotations

from django.db import transaction

from casework.models import Case

from ..context import SeedContext
from .cases import CasePlanner, Prefecture
from .contacts import ContactPlanner
from .draw import Draw
from .save import save
from .tables import ANONYMOUS_SHARE, CONTACTS


def seed(context: SeedContext) -> None:
    """Add the demo casework; does nothing if the centre already has a case."""
    if Case.objects.filter(organisation=context.organisations["centre"]).exists():
        return
    prefecture = Prefecture.from_context(context)
    if not prefecture.centre_staff:
        return  # without the demo counsellor or outreach worker nobody could log a contact
    draw = Draw(context.rng, context.today, prefecture.municipalities)
    with transaction.atomic():
        named = round(CONTACTS * (1 - ANONYMOUS_SHARE))
        cases = CasePlanner(draw, prefecture)
        plans = cases.plan_all(named)
        contacts = ContactPlanner(draw, prefecture, cases.start)
        for plan in plans:
            contacts.case_contacts(plan)
        contacts.anonymous_contacts(CONTACTS - named)
        contacts.plant_follow_ups(plans)
        contacts.plan_milestones(plans)
        save(plans, contacts.anonymous, contacts.milestones, context.counts)
