"""Benchmark: what protecting the statistics costs (issue 18), on the demo's records.

On a fresh SQLite database seeded with the demo (`seed_demo`), for fiscal --year:
  * exact: the owner's progress report of a plan with one indicator per registered metric
    (`progress_report(..., exact=True)`: this year and the two before);
  * publish: computing and storing every metric's publication for the same three years
    (the query space, joint suppression against outsiders and insiders, the last audit):
    the work `publish_statistics` does after a month end, once per publication;
  * read: what a viewer without exact figures pays per request instead: the same
    plan's progress report as they get it (`progress_report(..., exact=False)`: the
    stored publications of every metric for the three years, no counting).
Exact and read run in alternating order, the first run of each cold and the median of
--repeat warm runs; the machine's load average is printed with the figures.

Usage:  .venv/bin/python benchmarks/publication.py [--year 2025] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from django_setup import configure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    configure(None)
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    from _common import plan_with_every_metric

    from accounts.models import Organisation
    from indicators.disclosure.publication import publish, published_metrics
    from indicators.models import Publication
    from indicators.reports import progress_report

    centre = Organisation.objects.filter(kind=Organisation.Kind.PREFECTURE_CENTRE).first()
    years = [args.year - 2, args.year - 1, args.year]
    plan = plan_with_every_metric(centre, years[0], args.year, args.year)
    protected = published_metrics()
    print(f"load average before: {os.getloadavg()}")

    def exact() -> None:
        progress_report(plan, year=args.year, exact=True)

    def read() -> None:
        progress_report(plan, year=args.year, exact=False)

    started = time.perf_counter()
    per_metric = {}
    for key in protected:
        t = time.perf_counter()
        for year in years:
            publish(key, year)
        per_metric[key] = time.perf_counter() - t
    publish_all = time.perf_counter() - started
    samples: dict[str, list[float]] = {"exact": [], "read": []}
    for i in range(args.repeat + 1):
        order = [("exact", exact), ("read", read)]
        for name, func in order if i % 2 == 0 else order[::-1]:
            t = time.perf_counter()
            func()
            samples[name].append(time.perf_counter() - t)
    cold = {name: values[0] for name, values in samples.items()}
    warm = {name: statistics.median(values[1:]) for name, values in samples.items()}
    figures = sum(len(p.figures) for p in Publication.objects.all())
    hidden = sum(p.hidden for p in Publication.objects.all())
    print(f"fiscal {args.year} and the two years before; {len(protected)} metrics about people")
    print(f"publications: {Publication.objects.count()}, {figures} figures, {hidden} hidden")
    for key, seconds in per_metric.items():
        print(f"  publish {key}: {seconds:.2f} s")
    print(f"publish (all, once per month end): {publish_all:.2f} s")
    print(f"exact report: cold {cold['exact'] * 1000:.1f} ms, warm {warm['exact'] * 1000:.1f} ms")
    print(
        f"report from publications: cold {cold['read'] * 1000:.1f} ms, "
        f"warm {warm['read'] * 1000:.1f} ms"
    )
    print(f"read / exact (warm): {warm['read'] / warm['exact']:.2f}")
    print(f"publish / exact (warm): {publish_all / warm['exact']:.0f}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
