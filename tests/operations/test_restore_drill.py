"""The restore drill: back up the seeded demo, restore it into an empty database in
another process, and prove nothing was lost — row counts per table, the audit chain up to
the recorded head, every encrypted value, every plan's report figures. Then show the check
is not blind: a restored copy missing one row, or an empty target refused.

On SQLite the copy uses the online backup API; on PostgreSQL (the second pass of `make
test`), pg_dump and pg_restore into a fresh database."""

from __future__ import annotations

import json
import stat

import psycopg
from django.core.management import call_command
from django.db import connection

from .conftest import manage as _manage


def test_a_backup_restores_into_an_empty_database_with_nothing_lost(
    transactional_db, tmp_path, target_url
):
    call_command("seed_demo", verbosity=0)
    folder = tmp_path / "backup"
    call_command("backup", output=folder, verbosity=0)
    # The folder is the owner's only, and so is every file in it.
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in folder.iterdir()}
    copy = "database.dump" if connection.vendor == "postgresql" else "database.sqlite3"
    assert modes == dict.fromkeys([copy, "audit-head.json", "manifest.json"], 0o600)
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

        lite = sqlite3.connect(target_url.removeprefix("sqlite:///"))
        lite.execute(lose_one)
        lite.commit()
        lite.close()
    broken = _manage(target_url, "check_restore", "--input", str(folder))
    assert broken.returncode != 0
    assert "table casework_contact" in broken.stderr
