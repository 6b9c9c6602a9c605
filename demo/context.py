"""What each area's demo seeding receives from `manage.py seed_demo`."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field

from accounts.models import Organisation, User


@dataclass
class SeedContext:
    """Reproducible randomness, the day of the run and the seeded actors; each area's
    `seed(context)` draws from the one `rng` in turn and reports what it made."""

    rng: random.Random
    today: datetime.date
    organisations: dict[str, Organisation]  # "centre" and municipalities by code
    users: dict[str, User]  # by demo username
    counts: dict[str, int] = field(default_factory=dict)  # areas report what they made
