"""Benchmark: the case list with object permissions in force, and the case detail page.

On a database made by benchmarks/generate.py (100,000 cases and 1,000,000 contacts for the
figures in docs/scaling.md):

1. The case list's query as the view runs it — `casework.selectors.visible_cases(user)`
   read as the list reads it (`selectors.listed`), the `CaseFilter` filters, and
   the paginator's count and page of 50 — against the same query without the permission
   scope (`Case.objects.all()` with the same filters, ordering and pagination), for a
   centre counsellor and a supervisor, over several filter sets. Median of --repeat runs
   each, warm cache, and their ratio.
2. Server time of the whole view, middleware included, through Django's test client
   (signed in, session in the database): p50/p99 over --requests requests, for the list
   (the filter sets in turn, pages 1–3) and for the detail page of a case with about 200
   contacts.

Usage:  .venv/bin/python benchmarks/case_pages.py --env-file /tmp/hk_bench/hk_bench_main.env
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import BENCH_USERS, configure

FILTER_SETS = {
    "no filter": {},
    "status=active": {"status": "active"},
    "my cases (worker)": {"worker": "{me}"},
    "no contact 90 days": {"no_contact_days": "90"},
    "status + municipality": {"status": "active", "municipality": "{town}"},
    "code": {"code": "{code}"},
}


def median_ms(func, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def list_query(user, queryset, params: dict):
    """What casework.views.case_list evaluates: the filtered queryset, count and page."""
    from django.core.paginator import Paginator

    from casework.filters import CaseFilter
    from casework.selectors import listed
    from casework.views import PAGE_SIZE

    queryset = listed(queryset)
    case_filter = CaseFilter(params or None, queryset=queryset, user=user)
    cases = case_filter.qs if case_filter.is_bound and case_filter.is_valid() else queryset
    page = Paginator(cases, PAGE_SIZE).get_page(1)
    rows = list(page.object_list)
    return page.paginator.count, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env-file", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    configure(env_file=args.env_file)
    # Start as the server does (config/wsgi.py), which sets the start-up objects aside from
    # the garbage collector.
    importlib.import_module("config.wsgi")
    from django.db.models import Count
    from django.test import Client
    from django.urls import reverse

    from accounts.models import User
    from casework.models import Case, Contact
    from casework.selectors import visible_cases

    counsellor = User.objects.get(username=BENCH_USERS[0])
    supervisor = User.objects.get(username=BENCH_USERS[1])
    # A case the counsellor leads, and its residence: filters that match something.
    mine = visible_cases(counsellor).filter(lead_workers=counsellor, client__isnull=False)
    sample = mine.select_related("client").order_by("code").first()
    values = {
        "me": str(counsellor.pk),
        "town": str(sample.client.municipality_id),
        "code": sample.code,
    }
    filter_sets = {
        name: {k: v.format(**values) for k, v in params.items()}
        for name, params in FILTER_SETS.items()
    }
    print(
        f"data: cases {Case.objects.count():,}, contacts {Contact.objects.count():,}; "
        f"visible to the counsellor {visible_cases(counsellor).count():,}, "
        f"to the supervisor {visible_cases(supervisor).count():,}"
    )

    print(f"\n1. case list query, median of {args.repeat} (ms): with permissions / without / ratio")
    worst = 0.0
    for who, user in (("counsellor", counsellor), ("supervisor", supervisor)):
        for name, params in filter_sets.items():
            scoped = median_ms(
                lambda u=user, p=params: list_query(u, visible_cases(u), p), args.repeat
            )
            plain = median_ms(
                lambda u=user, p=params: list_query(u, Case.objects.all(), p), args.repeat
            )
            count, _ = list_query(user, visible_cases(user), params)
            worst = max(worst, scoped / plain)
            print(
                f"  {who:<10} {name:<22} {scoped:7.1f} {plain:7.1f}  {scoped / plain:5.2f}x"
                f"  ({count:,} rows)"
            )
    print(f"  worst ratio: {worst:.2f}x (goal <= 1.5x)")

    print(f"\n2. server time through the test client, {args.requests} requests each (ms)")
    list_url = reverse("casework:case_list")
    for who, user in (("counsellor", counsellor), ("supervisor", supervisor)):
        client = Client()
        client.force_login(user)
        queries = [
            {**params, "page": str(page)} for params in filter_sets.values() for page in (1, 2, 3)
        ]
        client.get(list_url)  # warm up
        samples = []
        for i in range(args.requests):
            started = time.perf_counter()
            response = client.get(list_url, queries[i % len(queries)])
            samples.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"HTTP {response.status_code}")
        print(
            f"  case list ({who}): p50 {percentile(samples, 0.5):.1f}, "
            f"p99 {percentile(samples, 0.99):.1f}, max {max(samples):.1f}"
        )

    case_row = (
        Contact.objects.filter(case__in=visible_cases(counsellor))
        .values("case")
        .annotate(n=Count("id"))
        .filter(n__gte=200)
        .order_by("n")
        .first()
    )
    case = Case.objects.get(pk=case_row["case"])
    client = Client()
    client.force_login(counsellor)
    url = reverse("casework:case_detail", kwargs={"code": case.code})
    client.get(url)
    samples = []
    for _ in range(args.requests):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"HTTP {response.status_code}")
    print(
        f"  case detail ({case_row['n']} contacts, {case.milestones.count()} milestones): "
        f"p50 {percentile(samples, 0.5):.1f}, p99 {percentile(samples, 0.99):.1f}, "
        f"max {max(samples):.1f}"
    )


if __name__ == "__main__":
    main()
