"""Back up the database with its audit head and the drill manifest into a new folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.models import Action
from audit.services import record
from operations.backups import DrillError, backup


class Command(BaseCommand):
    help = "Back up the database (pg_dump or SQLite's online backup) with a restore manifest."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--output", type=Path, required=True, help="A new, empty folder.")

    def handle(self, *args: Any, output: Path, **options: Any) -> None:
        try:
            record(Action.EXPORT, object_type="backup", object_ref=output.name)
            data = backup(output)
        except DrillError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written to {output}: {len(data['tables'])} tables, "
                f"{sum(data['tables'].values())} rows, audit head seq {data['audit_head']['seq']}."
            )
        )
