"""Benchmark: finding a case by name in kana, phone or birth date (casework.search).

On a database made by benchmarks/generate.py (100,000 cases with about 90,000 clients for
the issue's target: search p99 under 50 ms at 100,000 clients):

    .venv/bin/python benchmarks/generate.py --cases 100000 --contacts 1000 \\
        --database-url postgres://postgres@127.0.0.1:5432/hk_bench_search --create
    .venv/bin/python benchmarks/search.py \\
        --database-url postgres://postgres@127.0.0.1:5432/hk_bench_search

For a centre counsellor, over --queries clients of their organisation picked at random
(their kana name, family name, phone and birth date read back decrypted first):

- search: `casework.search.search_cases` as the page runs it (normalise, HMAC, the
  blind-index lookup joined to the visible cases, the audit event);
- baseline: the same visible-cases query and the same audit event for the same client
  found by its primary key instead (the work minus the blind-index lookup).

The two alternate, query by query, for a cold pass (each client's first search) and a
warm one; p50/p99 of each and the ratio. Prints the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import percentile
from generate import BENCH_USERS, configure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--env-file", type=Path)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    configure(args.database_url, args.env_file)

    from accounts.models import User
    from audit.models import Action
    from audit.services import record
    from casework.models import Client
    from casework.search import Terms, search_cases
    from casework.selectors import listed, visible_cases

    user = User.objects.get(username=BENCH_USERS[0])
    clients_total = Client.objects.unscoped().count()
    own = list(
        visible_cases(user)
        .filter(client__isnull=False)
        .values_list("client_id", flat=True)
        .distinct()[:5000]
    )
    rng = random.Random(args.seed)
    chosen = rng.sample(own, min(args.queries, len(own)))
    people = {
        c.pk: c for c in Client.objects.unscoped().filter(pk__in=chosen).select_related("data_key")
    }
    kinds = ["kana", "family", "phone", "birth_date", "kana+birth_date"]

    def terms_for(client, kind: str) -> Terms:
        kana = str(client.name_kana)
        return {
            "kana": Terms(kana=kana),
            "family": Terms(kana=kana.split()[0]),
            "phone": Terms(phone=str(client.phone)),
            "birth_date": Terms(birth_date=client.birth_date),
            "kana+birth_date": Terms(kana=kana, birth_date=client.birth_date),
        }[kind]

    def search(client, kind: str) -> int:
        found = search_cases(user, terms_for(client, kind))
        if not any(case.client_id == client.pk for case in found):
            raise SystemExit(f"{kind}: client {client.pk} not found by its own terms")
        return len(found)

    def baseline(client, kind: str) -> int:
        found = list(listed(visible_cases(user).filter(client_id=client.pk))[:50])
        record(
            Action.VIEW,
            object_type="casework.Client",
            object_ref="search",
            detail={"terms": [kind], "found": len(found)},
            actor=user,
        )
        return len(found)

    print(
        f"clients: {clients_total:,}; cases visible to {user.username}: "
        f"{visible_cases(user).count():,}; queries: {len(chosen)} × {len(kinds)} kinds"
    )
    print(f"load average before: {os.getloadavg()}")
    results: dict[tuple[str, str], list[float]] = {}
    found_sizes: list[int] = []
    for phase in ("cold", "warm"):
        for i, pk in enumerate(chosen):
            client = people[pk]
            kind = kinds[i % len(kinds)]
            order = [("search", search), ("baseline", baseline)]
            if i % 2:
                order.reverse()  # alternate which goes first
            for name, run in order:
                started = time.perf_counter()
                size = run(client, kind)
                results.setdefault((phase, name), []).append((time.perf_counter() - started) * 1000)
                if name == "search":
                    found_sizes.append(size)
    for phase in ("cold", "warm"):
        s, b = results[(phase, "search")], results[(phase, "baseline")]
        print(
            f"{phase}: search p50 {percentile(s, 50):.1f} ms, p99 {percentile(s, 99):.1f} ms; "
            f"baseline p50 {percentile(b, 50):.1f} ms, p99 {percentile(b, 99):.1f} ms; "
            f"ratio p50 {percentile(s, 50) / percentile(b, 50):.2f}, "
            f"p99 {percentile(s, 99) / percentile(b, 99):.2f}"
        )
    print(
        f"cases found per search: max {max(found_sizes)}, "
        f"mean {sum(found_sizes) / len(found_sizes):.1f}"
    )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
