"""Restore a backup folder into the configured, empty database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from operations.backups import DrillError, restore


class Command(BaseCommand):
    help = "Restore a backup made by `backup` into an empty database; then run check_restore."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--input", type=Path, required=True)

    def handle(self, *args: Any, input: Path, **options: Any) -> None:
        try:
            restore(input)
        except DrillError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(f"Restored {input}. Now run check_restore."))
