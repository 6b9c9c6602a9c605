"""Benchmark: finding a case by name in kana, phone or birth date (casework.search), at
--clients clients (the issue's target: p99 under 50 ms at 100,000).

Into a fresh database (--database-url, recreated; default a temporary SQLite file) it
writes --clients people, each with a case, through casework's bulk writers (identity
encrypted, blind indexes computed as the application computes them): ten organisations,
the first (the bench counsellor's) holding a tenth of them; names drawn from 200 family
names and 150 given names, so family names repeat as they do. Then, for the counsellor,
over --queries people of their organisation picked at random:

- search: `casework.search.search_cases` as the page runs it (normalise, HMAC, the
  blind-index lookup joined to the visible cases, the audit event), alternating the
  kind of term: whole name, family name, phone, birth date, name + birth date;
- baseline: the same visible-cases query for the same person by primary key, with the
  same audit event (the work minus the blind-index lookup).

The two alternate query by query, a cold pass (each person's first search) then a warm
one; p50 and p99 of each and their ratio, and the load average before and after.

Usage:  .venv/bin/python benchmarks/search.py --clients 100000 \\
            --database-url postgres://postgres@127.0.0.1:5432/hk_bench_search
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import percentile
from django_setup import configure

FAMILY = [f"{a}{b}" for a in "アカサタナハマヤラワ" for b in "イキシチニヒミリギジ"][:100] + [
    f"{a}{b}" for a in "オコソトノホモヨロゴ" for b in "ウクスツヌフムユルグ"
][:100]
GIVEN = [f"{a}{b}{c}" for a in "タケマヒユ" for b in "ロカミナツ" for c in "ウコシエオラ"][:150]


def recreate(database_url: str | None) -> None:
    if not database_url or not database_url.startswith("postgres"):
        return
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')


def load(count: int, rng: random.Random):
    from django.contrib.auth.models import Group

    from accounts.models import Organisation, User
    from accounts.roles import Role
    from casework import writers
    from casework.models import Case, Client

    organisations = [
        Organisation.objects.create(kind=Organisation.Kind.PREFECTURE_CENTRE, name="ベンチ")
    ] + [
        Organisation.objects.create(kind=Organisation.Kind.PARTNER, name=f"ベンチ{i}")
        for i in range(1, 10)
    ]
    counsellor = User.objects.create(username="bench-counsellor", organisation=organisations[0])
    counsellor.groups.add(Group.objects.get(name=Role.COUNSELLOR.value))
    writers_by_org = {
        org.pk: User.objects.create(username=f"bench-writer-{org.pk}", organisation=org)
        for org in organisations
    }
    from django.utils import timezone

    today = timezone.localdate()
    started = time.perf_counter()
    batch: list = []
    for i in range(count):
        org = organisations[0] if i % 10 == 0 else organisations[1 + i % 9]
        client = Client(
            organisation=org,
            name="ベンチ 太郎",
            name_kana=f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}",
            birth_date=datetime.date(1960, 1, 1) + datetime.timedelta(days=rng.randrange(20000)),
            phone=f"0{rng.randrange(10**9, 10**10)}",
        )
        case = Case(organisation=org, opened_on=today, summary="ベンチ")
        batch.append(writers.NewCase(case, client, [writers_by_org[org.pk].pk]))
        if len(batch) == 1000:
            writers.bulk_open_cases(batch, user=writers_by_org[org.pk])
            batch = []
    if batch:
        writers.bulk_open_cases(batch)
    print(f"loaded {count:,} clients and cases in {time.perf_counter() - started:.0f} s")
    return counsellor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    recreate(args.database_url)
    configure(args.database_url)
    from django.db import connection

    from audit.models import Action
    from audit.services import record
    from casework.models import Client
    from casework.search import Terms, search_cases
    from casework.selectors import listed, visible_cases

    rng = random.Random(args.seed)
    user = load(args.clients, rng)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    own = list(visible_cases(user).values_list("client_id", flat=True))
    chosen = rng.sample(own, min(args.queries, len(own)))
    people = {c.pk: c for c in Client.objects.unscoped().filter(pk__in=chosen)}
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

    found_sizes: list[int] = []

    def search(client, kind: str) -> None:
        found = search_cases(user, terms_for(client, kind))
        if not any(case.client_id == client.pk for case in found):
            raise SystemExit(f"{kind}: client {client.pk} not found by its own terms")
        found_sizes.append(len(found))

    def baseline(client, kind: str) -> None:
        found = list(listed(visible_cases(user).filter(client_id=client.pk))[:50])
        record(
            Action.VIEW,
            object_type="casework.Client",
            object_ref="search",
            detail={"terms": [kind], "found": len(found)},
            actor=user,
        )

    print(
        f"{connection.vendor}; clients: {Client.objects.unscoped().count():,}; cases visible "
        f"to the counsellor: {len(own):,}; {len(chosen)} people × 2 passes"
    )
    print(f"load average before: {os.getloadavg()}")
    results: dict[tuple[str, str], list[float]] = {}
    for phase in ("cold", "warm"):
        for i, pk in enumerate(chosen):
            client = people[pk]
            kind = kinds[i % len(kinds)]
            order = [("search", search), ("baseline", baseline)]
            for name, run in order if i % 2 == 0 else order[::-1]:
                started = time.perf_counter()
                run(client, kind)
                results.setdefault((phase, name), []).append((time.perf_counter() - started) * 1000)
    for phase in ("cold", "warm"):
        s, b = results[(phase, "search")], results[(phase, "baseline")]
        print(
            f"{phase}: search p50 {percentile(s, 0.5):.1f} ms, p99 {percentile(s, 0.99):.1f} ms; "
            f"baseline p50 {percentile(b, 0.5):.1f} ms, p99 {percentile(b, 0.99):.1f} ms; "
            f"ratio p50 {percentile(s, 0.5) / percentile(b, 0.5):.2f}, "
            f"p99 {percentile(s, 0.99) / percentile(b, 0.99):.2f}"
        )
    print(
        f"cases found per search: max {max(found_sizes)}, "
        f"mean {sum(found_sizes) / len(found_sizes):.1f}"
    )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
