"""Print (or write) the chain head, to keep outside the database for later verification."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from audit.services import chain_head


class Command(BaseCommand):
    help = "Export the audit chain head (seq and hash) as JSON."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--output", type=Path, help="Write to this file instead of stdout.")

    def handle(self, *args: Any, output: Path | None = None, **options: Any) -> None:
        text = json.dumps(chain_head(), ensure_ascii=False)
        if output is None:
            self.stdout.write(text)
        else:
            output.write_text(text + "\n")
            self.stdout.write(f"Audit head written to {output}.")
