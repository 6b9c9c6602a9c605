"""Django for a benchmark script: fresh keys, the database it names (or a new SQLite file),
migrated. Keys are random per run and never written anywhere."""

from __future__ import annotations

import base64
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def random_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def configure(database_url: str | None, *, key_id: str = "bench") -> str:
    """Set up Django and migrate; returns the field key (base64) encrypting from now on."""
    field_key = random_key()
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["SECRET_KEY"] = random_key()
    os.environ["FIELD_ENCRYPTION_KEYS"] = f"{key_id}:{field_key}"
    os.environ["BLIND_INDEX_KEY"] = random_key()
    os.environ["DATABASE_URL"] = database_url or (
        f"sqlite:///{tempfile.mkdtemp(prefix='bench-')}/bench.sqlite3"
    )
    os.environ.setdefault("DEBUG", "false")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return field_key
