"""The restore drill: back up the seeded demo, restore it into an empty database in
another process, and prove nothing was lost — row counts per table, the audit chain up to
the recorded head, every encrypted value, every plan's report figures. Then show the check
is not blind: a restored copy missing one row, or an empty target refused.

On SQLite the copy uses the online backup API; on PostgreSQL (the second pass of `make
test`), pg_dump and pg_restore into a fresh database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _manage(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


@pytest.fixture
def target_url(tmp_path):
    """An empty database of the same kind as the test database."""
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    params = connection.settings_dict
    name = f"{params['NAME']}_restore"
    admin = psycopg.connect(
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        user=params["USER"] or None,
        password=params["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}"')
    auth = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
    yield f"postgres://{auth}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{name}"
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def test_a_backup_restores_into_an_empty_database_with_nothing_lost(
    transactional_db, tmp_path, target_url
):
    call_command("seed_demo", verbosity=0)
    folder = tmp_path / "backup"
    call_command("backup", output=folder, verbosity=0)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["tables"]["casework_contact"] > 2000
    assert manifest["encrypted_values"]["casework.Contact.summary"]["decrypted"] > 2000
    assert manifest["report_figures"]  # the demo plans' figures
    assert "デモ" not in (folder / "manifest.json").read_text()  # no decrypted content

    restored = _manage(target_url, "restore", "--input", str(folder))
    assert restored.returncode == 0, restored.stderr
    checked = _manage(target_url, "check_restore", "--input", str(folder))
    assert checked.returncode == 0, checked.stderr
    assert "Restore check passed" in checked.stdout

    # Restoring again over the now non-empty database is refused, and changes nothing.
    again = _manage(target_url, "restore", "--input", str(folder))
    assert again.returncode != 0 and "empty database" in again.stderr

    # A restored copy that lost one row fails the check, naming the table.
    lose_one = (
        "DELETE FROM casework_contact WHERE id = (SELECT id FROM casework_contact WHERE id NOT IN "
        "(SELECT contact_id FROM outreach_visit WHERE contact_id IS NOT NULL) LIMIT 1)"
    )
    if connection.vendor == "postgresql":
        with psycopg.connect(target_url.replace("postgres://", "postgresql://")) as db:
            db.execute(lose_one)
    else:
        import sqlite3

        db = sqlite3.connect(target_url.removeprefix("sqlite:///"))
        db.execute(lose_one)
        db.commit()
        db.close()
    broken = _manage(target_url, "check_restore", "--input", str(folder))
    assert broken.returncode != 0
    assert "table casework_contact" in broken.stderr
