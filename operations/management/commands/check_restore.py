"""Prove a restored database equals its backup's manifest (exit status 1 otherwise)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from operations.backups import check


class Command(BaseCommand):
    help = "Compare row counts, the audit chain, decryption and report figures with a backup."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--input", type=Path, required=True)

    def handle(self, *args: Any, input: Path, **options: Any) -> None:
        result = check(input)
        if not result.ok:
            raise CommandError("Restore check FAILED:\n" + "\n".join(result.problems))
        self.stdout.write(
            self.style.SUCCESS(
                "Restore check passed: row counts, audit chain, encrypted values and report "
                "figures all equal the backup."
            )
        )
