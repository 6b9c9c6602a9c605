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
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import case_with_contacts, percentile, timed
from generate import BENCH_USERS, configure

FILTER_SETS = {
    "no filter": {},
    "status=active": {"status": "active"},
    "my cases (worker)": {"worker": "{me}"},
    "no contact 90 days": {"no_contact_days": "90"},
    "status + municipality": {"status": "active", "municipality": "{town}"},
    "code": {"code": "{code}"},
}


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


def filter_sets_for(counsellor) -> dict[str, dict[str, str]]:
    """FILTER_SETS filled in with values that match something: a case the counsellor leads,
    and its residence."""
    from casework.selectors import visible_cases

    mine = visible_cases(counsellor).filter(lead_workers=counsellor, client__isnull=False)
    sample = mine.select_related("client").order_by("code").first()
    values = {
        "me": str(counsellor.pk),
        "town": str(sample.client.municipality_id),
        "code": sample.code,
    }
    return {
        name: {k: v.format(**values) for k, v in params.items()}
        for name, params in FILTER_SETS.items()
    }


def compare_list_queries(users: dict, filter_sets: dict, repeat: int) -> None:
    """1. The list's query with the permission scope and without, per user and filter set."""
    from casework.models import Case
    from casework.selectors import visible_cases

    print(f"\n1. case list query, median of {repeat} (ms): with permissions / without / ratio")
    worst = 0.0
    for who, user in users.items():
        for name, params in filter_sets.items():
            scoped = (
                1000 * timed(lambda u=user, p=params: list_query(u, visible_cases(u), p), repeat)[0]
            )
            plain = (
                1000
                * timed(lambda u=user, p=params: list_query(u, Case.objects.all(), p), repeat)[0]
            )
            count, _ = list_query(user, visible_cases(user), params)
            worst = max(worst, scoped / plain)
            print(
                f"  {who:<10} {name:<22} {scoped:7.1f} {plain:7.1f}  {scoped / plain:5.2f}x"
                f"  ({count:,} rows)"
            )
    print(f"  worst ratio: {worst:.2f}x (goal <= 1.5x)")


def server_times(client, url: str, queries: list[dict], requests: int) -> list[float]:
    """Milliseconds per request through the test client, `queries` in turn."""
    samples = []
    for i in range(requests):
        started = time.perf_counter()
        response = client.get(url, queries[i % len(queries)])
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"HTTP {response.status_code}")
    return samples


def spread(samples: list[float]) -> str:
    return (
        f"p50 {percentile(samples, 0.5):.1f}, p99 {percentile(samples, 0.99):.1f}, "
        f"max {max(samples):.1f}"
    )


def time_pages(users: dict, filter_sets: dict, requests: int) -> None:
    """2. The list (filter sets in turn, pages 1-3) and a detail page, through the client."""
    from django.test import Client
    from django.urls import reverse

    print(f"\n2. server time through the test client, {requests} requests each (ms)")
    list_url = reverse("casework:case_list")
    queries = [
        {**params, "page": str(page)} for params in filter_sets.values() for page in (1, 2, 3)
    ]
    for who, user in users.items():
        client = Client()
        client.force_login(user)
        client.get(list_url)  # warm up
        print(f"  case list ({who}): {spread(server_times(client, list_url, queries, requests))}")
    counsellor = users["counsellor"]
    case, contacts = case_with_contacts(counsellor)
    client = Client()
    client.force_login(counsellor)
    url = reverse("casework:case_detail", kwargs={"code": case.code})
    client.get(url)
    samples = server_times(client, url, [{}], requests)
    print(
        f"  case detail ({contacts} contacts, {case.milestones.count()} milestones): "
        f"{spread(samples)}"
    )


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
    from accounts.models import User
    from casework.models import Case, Contact
    from casework.selectors import visible_cases

    users = {
        "counsellor": User.objects.get(username=BENCH_USERS[0]),
        "supervisor": User.objects.get(username=BENCH_USERS[1]),
    }
    filter_sets = filter_sets_for(users["counsellor"])
    print(
        f"data: cases {Case.objects.count():,}, contacts {Contact.objects.count():,}; "
        f"visible to the counsellor {visible_cases(users['counsellor']).count():,}, "
        f"to the supervisor {visible_cases(users['supervisor']).count():,}"
    )
    compare_list_queries(users, filter_sets, args.repeat)
    time_pages(users, filter_sets, args.requests)


if __name__ == "__main__":
    main()
