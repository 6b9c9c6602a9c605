"""Print the restore manifest of the configured database as JSON (counts and figures only).

`backup` runs it against its SQLite copy, so that the manifest describes the copy."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from operations.backups import manifest


class Command(BaseCommand):
    help = "Print the restore manifest (row counts, decryption counts, report figures) as JSON."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps(manifest(), ensure_ascii=False))
