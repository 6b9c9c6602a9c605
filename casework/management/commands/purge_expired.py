"""Crypto-shred what is past retention: closed cases RETENTION_YEARS (default 5) after
closure, and anonymous contacts of fiscal years that ended before then; and delete drafts
older than DRAFT_RETENTION_HOURS (casework.drafts).

Destroys data keys only; rows stay, so statistics are unchanged, while the sensitive text
of those records reads as erased everywhere, history tables and backups taken afterwards
included. `--dry-run` lists what would go (case codes only) and changes nothing.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand
from tqdm import tqdm

from casework import drafts, services


class Command(BaseCommand):
    help = "Destroy the data keys of records past their retention period (crypto-shredding)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="List only; change nothing.")
        parser.add_argument(
            "--today",
            type=datetime.date.fromisoformat,
            help="Compute the cut-off from this day instead of today (YYYY-MM-DD).",
        )

    def handle(
        self, *args: Any, dry_run: bool, today: datetime.date | None, **options: Any
    ) -> None:
        cutoff = services.retention_cutoff(today)
        if not dry_run:
            stale = drafts.purge_stale()
            self.stdout.write(f"{stale} drafts older than DRAFT_RETENTION_HOURS deleted.")
        cases = list(services.expired_cases(cutoff))
        year_keys = list(services.expired_year_keys(cutoff))
        self.stdout.write(
            f"Cut-off {cutoff}: {len(cases)} closed cases and {len(year_keys)} "
            "organisation-year keys (anonymous contacts) are past retention."
        )
        if dry_run:
            for case in cases:
                self.stdout.write(f"  {case.code} closed {case.closed_on}")
            for key in year_keys:
                self.stdout.write(
                    f"  organisation {key.organisation_id} fiscal year {key.fiscal_year}"
                )
            self.stdout.write("Dry run: nothing was changed.")
            return
        destroyed = 0
        with tqdm(total=len(cases) + len(year_keys), unit="record", file=self.stderr) as bar:
            for case in cases:
                destroyed += services.purge_case(case)
                bar.update(1)
            for key in year_keys:
                services.purge_year_key(key)
                destroyed += 1
                bar.update(1)
        self.stdout.write(
            self.style.SUCCESS(f"{destroyed} data keys destroyed; every row and count remains.")
        )
