"""Re-wrap all data keys under the newest key of FIELD_ENCRYPTION_KEYS.

Procedure: append a new key to FIELD_ENCRYPTION_KEYS (it becomes the encrypting key),
restart, run this command, then remove the old key and restart again.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from tqdm import tqdm

from casework import crypto
from casework.models import DataKey
from casework.services import rewrap_data_keys


class Command(BaseCommand):
    help = "Re-wrap every data key under the active (last) key of the key ring."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        active = crypto.keyring().active_id
        pending = DataKey.objects.live().exclude(kek_id=active).count()
        with tqdm(total=pending, unit="key", disable=not pending, file=self.stderr) as bar:
            done = rewrap_data_keys(batch_size=batch_size, progress=bar.update)
        self.stdout.write(
            self.style.SUCCESS(
                f"{done} data keys re-wrapped under '{active}'. No field value was touched."
            )
        )
