"""Seed a realistic demo prefecture: Mie's municipalities, the centre, partners, one user per role.

Then each area adds its demo records, in the order of `AREAS` (casework: cases and
contacts; then the areas that build on them), all drawing from one seeded random
generator. Idempotent: a second run changes nothing and prints no password. Passwords are
generated on this machine and printed once, when each user is created; none is stored
anywhere else.
"""

from __future__ import annotations

import random
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Organisation
from accounts.roles import Role
from audit.models import Action
from audit.services import record
from demo import casework, indicators, meetings, outreach, prefecture, referrals
from demo.context import SeedContext

# The areas in dependency order (that of INSTALLED_APPS): outreach, meetings and
# referrals pick among the demo cases, indicators count everything. The order is part of
# the data: every area draws from the same random generator in turn.
AREAS = (casework.seed, outreach.seed, meetings.seed, referrals.seed, indicators.seed)


class Command(BaseCommand):
    help = "Seed the demo prefecture (Mie) and one user per role; passwords print on creation."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--seed", type=int, default=2024, help="Random seed for demo data.")

    @transaction.atomic
    def handle(self, *args: Any, seed: int, **options: Any) -> None:
        rng = random.Random(seed)
        organisations = prefecture.seed_organisations(rng)
        created = prefecture.seed_users(organisations)
        context = SeedContext(
            rng=rng,
            today=timezone.localdate(),
            organisations=organisations,
            users=prefecture.demo_users(),
        )
        for area in AREAS:
            area(context)
        record(
            Action.IMPORT,
            object_type="seed_demo",
            object_ref="mie",
            detail={
                "organisations": Organisation.objects.count(),
                "users_created": len(created),
                **context.counts,
            },
        )
        self._report(created)
        for name, count in context.counts.items():
            self.stdout.write(f"  {name}: {count}")

    def _report(self, created: list[tuple[str, Role, str]]) -> None:
        if not created:
            self.stdout.write("Demo data present; no new users (passwords are shown only once).")
            return
        self.stdout.write(self.style.SUCCESS("Demo users (shown only now; note them down):"))
        for username, role, password in created:
            self.stdout.write(f"  {role.label:<20} {username:<12} {password}")
