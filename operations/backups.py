"""Backups, restores and the restore drill's manifest.

A backup is a folder: the database (`database.dump` from pg_dump's custom format, or
`database.sqlite3` from SQLite's online backup API, consistent while the application
runs), the audit chain head, and `manifest.json`: what a faithful restore must reproduce.
The manifest holds only counts and report figures — never a decrypted value.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.db import connection
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
            report = progress_report(plan, year, exact=True)
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
    """Write the database copy, the audit head and the manifest into an empty folder."""
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        raise DrillError(f"{folder} is not empty; a backup goes into a folder of its own.")
    data = manifest()
    if _is_postgres():
        args, env = _pg_args_and_env()
        _run(
            ["pg_dump", "--format=custom", "--no-owner", "--file", str(folder / PG_DUMP), *args],
            env,
        )
    else:
        connection.ensure_connection()
        target = sqlite3.connect(folder / SQLITE_COPY)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
    (folder / AUDIT_HEAD).write_text(json.dumps(data["audit_head"]))
    (folder / MANIFEST).write_text(json.dumps(data, ensure_ascii=False, indent=1))
    os.chmod(folder, 0o700)
    return data


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
