"""Backups, restores and the restore drill's manifest.

A backup is a folder: the database (`database.dump` from pg_dump's custom format, or
`database.sqlite3` from SQLite's online backup API, consistent while the application
runs), the audit chain head, and `manifest.json`: what a faithful restore must reproduce,
collected from the same snapshot as the copy (see `backup`). The manifest holds only
counts and report figures — never a decrypted value.

`check(manifest)` run against a restored database proves nothing was lost: every table
has the same number of rows, the audit chain verifies up to the recorded head, every
encrypted value decrypts (values under destroyed keys stay erased, and are counted as
such), and every plan's report gives the same figures.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

MANIFEST = "manifest.json"
AUDIT_HEAD = "audit-head.json"
PG_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"


class DrillError(Exception):
    """A backup or restore could not be made, or the restored database differs."""


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _pg_args_and_env() -> tuple[list[str], dict[str, str]]:
    params = connection.settings_dict
    args = ["--dbname", params["NAME"]]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if params.get(key):
            args += [flag, str(params[key])]
    env = dict(os.environ)
    if params.get("PASSWORD"):
        env["PGPASSWORD"] = params["PASSWORD"]
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    if shutil.which(command[0]) is None:
        raise DrillError(f"{command[0]} is not installed (Debian: postgresql-client).")
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise DrillError(f"{command[0]} failed: {result.stderr.strip()[:500]}")


def table_counts() -> dict[str, int]:
    """Rows per table, every table of the database (Django's and the libraries')."""
    with connection.cursor() as cursor:
        names = sorted(connection.introspection.table_names(cursor))
        counts = {}
        for name in names:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(name)}")  # noqa: S608
            counts[name] = cursor.fetchone()[0]
    return counts


def decryption_counts() -> dict[str, dict[str, int]]:
    """Per model and encrypted field: values that decrypt, and values erased on purpose
    (data key destroyed). Any other failure raises: the restore is not faithful."""
    from casework import crypto
    from casework.fields import EncryptedMixin

    result: dict[str, dict[str, int]] = {}
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedMixin)]
        if not fields:
            continue
        for row in model._default_manager.only("pk", *[f.name for f in fields]).iterator(2000):
            for f in fields:
                key = f"{model._meta.label}.{f.name}"
                tally = result.setdefault(key, {"decrypted": 0, "erased": 0})
                if row.__dict__.get(f.attname) is None:
                    continue
                try:
                    getattr(row, f.name)
                except crypto.DataKeyDestroyed:
                    tally["erased"] += 1
                else:
                    tally["decrypted"] += 1
    return result


def report_figures() -> dict[str, Any]:
    """Every plan's progress figures (exact) for each of its years up to this one."""
    from indicators.models import Plan
    from indicators.periods import fiscal_year
    from indicators.reports import progress_report

    this_year = fiscal_year(timezone.localdate())
    figures: dict[str, Any] = {}
    for plan in Plan.objects.order_by("pk"):
        for year in plan.years:
            if year > this_year:
                continue
            report = progress_report(plan, year=year, exact=True)
            figures[f"{plan.pk}:{year}"] = report.figures()["rows"]
    return figures


def manifest() -> dict[str, Any]:
    from audit.services import chain_head

    return {
        "made_at": timezone.now().isoformat(),
        "vendor": connection.vendor,
        "tables": table_counts(),
        "encrypted_values": decryption_counts(),
        "report_figures": report_figures(),
        "audit_head": chain_head(),
    }


def backup(folder: Path) -> dict[str, Any]:
    """Write the database copy, the audit head and the manifest into a new, empty folder.

    The manifest describes exactly the copy, however many people write meanwhile. On
    PostgreSQL it is collected inside one REPEATABLE READ transaction whose snapshot
    pg_dump imports (`--snapshot`): the dump and every count, decryption and report figure
    see the same committed rows. On SQLite the online backup API copies the database in
    one step (a consistent snapshot), and the manifest is collected from that copy.
    The folder is the owner's only (700) and every file in it is 600."""
    _private_folder(folder)
    data = _backup_postgres(folder) if _is_postgres() else _backup_sqlite(folder)
    _write_private(folder / AUDIT_HEAD, json.dumps(data["audit_head"]))
    _write_private(folder / MANIFEST, json.dumps(data, ensure_ascii=False, indent=1))
    return data


def _private_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if any(folder.iterdir()):
        raise DrillError(f"{folder} is not empty; a backup goes into a folder of its own.")
    os.chmod(folder, 0o700)


def _private_file(path: Path) -> None:
    """Create the file empty, mode 600, before anything writes into it."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _write_private(path: Path, text: str) -> None:
    _private_file(path)
    path.write_text(text)


def _backup_postgres(folder: Path) -> dict[str, Any]:
    args, env = _pg_args_and_env()
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise DrillError("pg_dump is not installed (Debian: postgresql-client).")
    if connection.in_atomic_block:
        raise DrillError("A backup takes a snapshot of its own; run it outside a transaction.")
    _private_file(folder / PG_DUMP)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        # The transaction waits for pg_dump once the manifest is collected.
        for name in ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout"):
            cursor.execute("SELECT set_config(%s, '0', true)", [name])
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        dump = subprocess.Popen(  # noqa: S603 - pg_dump with our arguments
            [
                pg_dump,
                "--format=custom",
                "--no-owner",
                f"--snapshot={snapshot}",
                "--file",
                str(folder / PG_DUMP),
                *args,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            data = manifest()
        except BaseException:
            dump.kill()
            dump.communicate()
            raise
        # The snapshot lives as long as this transaction: wait for pg_dump inside it.
        _, errors = dump.communicate()
    if dump.returncode != 0:
        raise DrillError(f"pg_dump failed: {errors.strip()[:500]}")
    return data


def _backup_sqlite(folder: Path) -> dict[str, Any]:
    copy = folder / SQLITE_COPY
    _private_file(copy)
    connection.ensure_connection()
    target = sqlite3.connect(copy)
    try:
        connection.connection.backup(target)  # one step: one consistent snapshot
    finally:
        target.close()
    # The manifest of the copy, by the same code against the copy as its only database.
    result = subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "backup_manifest"],
        env={**os.environ, "DATABASE_URL": f"sqlite:///{copy}"},
        capture_output=True,
        text=True,
        check=False,
        cwd=settings.BASE_DIR,
    )
    for leftover in (folder / f"{SQLITE_COPY}-wal", folder / f"{SQLITE_COPY}-shm"):
        leftover.unlink(missing_ok=True)
    if result.returncode != 0:
        raise DrillError(f"The manifest of the copy failed: {result.stderr.strip()[-500:]}")
    return json.loads(result.stdout)


def restore(folder: Path) -> None:
    """Restore a backup into the configured database, which must hold no tables."""
    with connection.cursor() as cursor:
        existing = connection.introspection.table_names(cursor)
    if existing:
        raise DrillError(
            f"The target database already has {len(existing)} tables; restore only into an "
            "empty database."
        )
    if _is_postgres():
        if not (folder / PG_DUMP).exists():
            raise DrillError(f"{folder / PG_DUMP} is missing (a PostgreSQL backup is needed).")
        args, env = _pg_args_and_env()
        _run(["pg_restore", "--no-owner", "--exit-on-error", *args, str(folder / PG_DUMP)], env)
    else:
        if not (folder / SQLITE_COPY).exists():
            raise DrillError(f"{folder / SQLITE_COPY} is missing (an SQLite backup is needed).")
        connection.ensure_connection()
        source = sqlite3.connect(folder / SQLITE_COPY)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
    connection.close()


@dataclass
class Comparison:
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check(folder: Path) -> Comparison:
    """Compare the current (restored) database with the backup's manifest."""
    from audit.services import verify_chain

    expected = json.loads((folder / MANIFEST).read_text())
    result = Comparison()
    now_tables = table_counts()
    for table, count in expected["tables"].items():
        if now_tables.get(table) != count:
            result.problems.append(f"table {table}: {now_tables.get(table)} rows, expected {count}")
    for table in sorted(set(now_tables) - set(expected["tables"])):
        result.problems.append(f"table {table}: not in the backup")
    chain = verify_chain(expected_head=json.loads((folder / AUDIT_HEAD).read_text()))
    if not chain.ok:
        result.problems.append(f"audit chain: broken at seq {chain.first_bad_seq}: {chain.problem}")
    try:
        values = decryption_counts()
    except Exception as error:
        result.problems.append(f"encrypted values: {type(error).__name__}")
    else:
        if values != expected["encrypted_values"]:
            result.problems.append("encrypted values: counts differ from the backup")
    if report_figures() != expected["report_figures"]:
        result.problems.append("report figures differ from the backup")
    return result
