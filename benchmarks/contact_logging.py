"""Benchmark: logging a contact through the service against a plain ORM insert of the row.

`casework.services.log_contact` checks the permission and that the case is visible,
snapshots the client's attributes, validates, encrypts the summary and follow-up under the
case's data key, writes the contact and its history row, moves the case's last-contact
time and appends the audit event (chain lock, previous hash) — in one transaction. The
plain path inserts the same row: `Contact.objects.bulk_create([row])` (one INSERT, the
fields still encrypt in pre_save, no history) and `Contact.objects.create(...)` (save(),
with the history row). Each path commits once per contact, as a request would.

The case comes as the views pass it (`get_visible_case`, client joined). Runs on a
database made by benchmarks/generate.py; the rows it adds stay (a few hundred contacts).

Usage:  .venv/bin/python benchmarks/contact_logging.py --env-file /tmp/hk_bench/hk_bench_main.env
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import BENCH_USERS, configure

SUMMARY = "【ベンチ】" + "電話で近況を確認した。昼夜逆転の生活が続いている。" * 4
FOLLOW_UP = "次回面談の日程を電話で確認する。"


def contact_fields() -> dict:
    """What the contact form gives, the same for every path."""
    from django.utils import timezone

    return {
        "channel": "phone",
        "consulter": "parent",
        "kind": "continuing",
        "minutes": 20,
        "topics": ["family", "daily_life"],
        "summary": SUMMARY,
        "follow_up": FOLLOW_UP,
        "follow_up_due": timezone.localdate(),
    }


def paths_for(user) -> dict[str, Callable]:
    """Each way of logging a contact for a case, as one committed unit of work."""
    from django.db import transaction
    from django.utils import timezone

    from casework.models import Contact
    from casework.periods import age_band
    from casework.services import log_contact

    def row(case) -> Contact:
        now = timezone.now()
        client = case.client
        return Contact(
            id=uuid.uuid4(),
            case=case,
            data_key_id=case.data_key_id,
            organisation_id=user.organisation_id,
            staff=user,
            updated_by=user,
            occurred_at=now,
            age_band=age_band(client.birth_year, timezone.localdate()),
            gender=client.gender,
            municipality_id=client.municipality_id,
            **contact_fields(),
        )

    def service(case) -> None:
        log_contact(user, case=case, **contact_fields())

    def bulk_insert(case) -> None:
        with transaction.atomic():
            Contact.objects.bulk_create([row(case)])

    def orm_create(case) -> None:
        with transaction.atomic():
            row(case).save(force_insert=True)

    return {
        "service log_contact": service,
        "plain INSERT (bulk_create of 1)": bulk_insert,
        "ORM create() with history": orm_create,
    }


def per_contact_micros(paths: dict[str, Callable], cases: list, rounds: int) -> dict[str, float]:
    """Queries per contact of each path, then the median µs per contact over the rounds."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for name, func in paths.items():
        with CaptureQueriesContext(connection) as captured:
            func(cases[0])
        print(f"  {name}: {len(captured)} queries per contact")
    results: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(rounds):
        for name, func in paths.items():
            started = time.perf_counter()
            for case in cases:
                func(case)
            results[name].append((time.perf_counter() - started) / len(cases) * 1e6)
    return {name: statistics.median(samples) for name, samples in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env-file", type=Path, required=True)
    parser.add_argument("--contacts", type=int, default=300, help="per path and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    configure(env_file=args.env_file)

    from django.db import connection

    from accounts.models import User
    from casework.selectors import get_visible_case, visible_cases

    user = User.objects.get(username=BENCH_USERS[0])
    codes = list(
        visible_cases(user)
        .filter(client__isnull=False)
        .order_by("code")
        .values_list("code", flat=True)[: args.contacts]
    )
    cases = [get_visible_case(user, code) for code in codes]
    user.has_perm("casework.add_contact")  # permission cache warm, as after sign-in
    per_contact = per_contact_micros(paths_for(user), cases, args.rounds)
    print(
        f"{len(cases)} contacts x {args.rounds} rounds per path, "
        f"{connection.vendor}, median µs per contact:"
    )
    for name, micros in per_contact.items():
        print(f"  {name:<34} {micros:8.0f}")
    service = per_contact["service log_contact"]
    orm = per_contact["ORM create() with history"]
    bare = per_contact["plain INSERT (bulk_create of 1)"]
    print(
        f"ratio service / ORM create() (the model's own insert): {service / orm:.2f}x (goal <= 3x)"
    )
    print(f"ratio service / bare INSERT without history: {service / bare:.2f}x")


if __name__ == "__main__":
    main()
