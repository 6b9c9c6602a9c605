"""Publish (or audit) the figures viewers without exact figures see: run after each month
end (cron or a systemd timer) so that the current year's tables move to the new month end.
A closed year's publication is final; `--revise` computes it again after a correction.
An operator runs `--audit` before giving a statistics viewer access."""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from indicators import metrics
from indicators.disclosure.publication import audit, publish, published_metrics
from indicators.models import Publication
from indicators.periods import fiscal_year

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Compute and store the protected figures of every metric about people for the "
        "given fiscal years (default: this one and the two before), or audit the stored ones."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--year", type=int, action="append", dest="years")
        parser.add_argument("--metric", action="append", dest="metric_keys")
        parser.add_argument(
            "--revise",
            action="store_true",
            help="Compute a closed year again (a correction after it closed); what it "
            "showed stays shown.",
        )
        parser.add_argument(
            "--audit",
            action="store_true",
            help="Check the stored publications with the auditor instead of publishing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        this_year = fiscal_year(timezone.localdate())
        years = options["years"] or [this_year - 2, this_year - 1, this_year]
        keys = options["metric_keys"] or published_metrics()
        for key in keys:
            if key not in metrics.REGISTRY:
                raise CommandError(f"unknown metric {key!r}")
        if options["audit"]:
            self._audit(keys, years)
            return
        failed = []
        for key in keys:
            for year in years:
                try:
                    publication = publish(key, year, revise=options["revise"])
                except Exception as error:  # one metric's failure stops no other
                    logger.exception("publishing %s %s failed", key, year)
                    self.stderr.write(f"{key} {year}: failed ({type(error).__name__})")
                    failed.append(f"{key} {year}")
                    continue
                if publication is None:
                    self.stdout.write(f"{key} {year}: nothing to publish yet")
                    continue
                self.stdout.write(
                    f"{key} {year} (to {publication.as_of}): {len(publication.figures)} figures, "
                    f"{publication.hidden} hidden, {publication.seconds:.1f} s"
                )
        if failed:
            raise CommandError(f"not published (the last publication stays): {', '.join(failed)}")

    def _audit(self, keys: list[str], years: list[int]) -> None:
        exposed = stale = 0
        for publication in Publication.objects.filter(metric__in=keys, fiscal_year__in=years):
            result = audit(publication)
            exposed += len(result.leaks)
            stale += result.changed
            self.stdout.write(
                f"{publication.metric} {publication.fiscal_year} (to {publication.as_of}): "
                f"{result.figures} figures, {result.hidden} hidden, "
                f"{len(result.leaks)} exposed, {result.changed} changed since"
            )
            for who, leak in result.leaks:
                # Keys and bounds only: a hidden value is never printed.
                self.stdout.write(
                    f"  exposed to {who}: {leak.key} within [{leak.low}, {leak.high}]"
                )
        if exposed:
            raise CommandError(f"{exposed} hidden figures can be derived")
        if stale:
            # The audit speaks of today's records: publish again, then audit.
            raise CommandError(
                f"{stale} shown figures changed since publishing: publish again "
                "(--revise for a year already closed)"
            )
