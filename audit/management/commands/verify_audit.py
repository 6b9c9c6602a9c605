"""Prove the audit chain intact, or name its first broken link (exit status 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.services import verify_chain


class Command(BaseCommand):
    help = "Verify the hash chain of audit events; exits non-zero at the first bad link."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--head",
            type=Path,
            help="A head exported earlier by export_audit_head, kept outside the database.",
        )

    def handle(self, *args: Any, head: Path | None = None, **options: Any) -> None:
        expected = None
        if head is not None:
            try:
                expected = json.loads(head.read_text())
                int(expected["seq"]), str(expected["hash"])
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise CommandError(f"Cannot read the exported head {head}: {exc}") from None
        result = verify_chain(expected_head=expected)
        if not result.ok:
            raise CommandError(
                f"Audit chain BROKEN at event seq {result.first_bad_seq}: {result.problem} "
                f"({result.checked} events verified before it)."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain intact: {result.checked} events, head seq {result.head_seq} "
                f"hash {result.head_hash}."
            )
        )
