"""A backup taken while people work passes its own check (issue 25).

Writer threads log contacts through the service (each with its history row, audit event
and the case's last-contact time) for the whole time `backup` runs. The manifest must
describe exactly what the dump holds — row counts, the audit head, decryption counts, the
plan's figures — so the restored copy passes `check_restore`. Before the fix the manifest
was collected before pg_dump started, and every such backup failed its check.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from accounts.roles import Role
from casework import services
from casework.models import Contact
from casework.periods import fiscal_year
from indicators.models import Direction, Indicator, Plan
from tests.factories import make_organisation, make_user

from .conftest import manage

pytestmark = pytest.mark.postgres


def test_a_backup_taken_under_writes_restores_and_passes_its_check(
    transactional_db, tmp_path, target_url
):
    org = make_organisation(name="書き込み中のセンター")
    writers = [make_user(Role.COUNSELLOR, organisation=org) for _ in range(3)]
    cases = [services.open_case(w, identity={"name": f"並行 {i}"}) for i, w in enumerate(writers)]
    for writer, case in zip(writers, cases, strict=True):
        for _ in range(20):
            services.log_contact(writer, case=case, summary="下準備の記録")
    year = fiscal_year(timezone.localdate())
    plan = Plan.objects.create(name="計画", organisation=org, first_year=year, last_year=year)
    direction = Direction.objects.create(plan=plan, number=1, name="方向")
    Indicator.objects.create(
        direction=direction, code="1", name="相談件数", unit="件", metric="contacts"
    )

    stop = threading.Event()
    written = [0] * len(writers)
    failures: list[BaseException] = []

    def write(i: int) -> None:
        try:
            while not stop.is_set():
                services.log_contact(writers[i], case=cases[i], summary=f"並行記録 {written[i]}")
                written[i] += 1
        except BaseException as error:
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(len(writers))]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    before = sum(written)
    folder = tmp_path / "backup"
    try:
        call_command("backup", output=folder, verbosity=0)
        during = sum(written) - before
        time.sleep(0.3)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not failures, failures
    assert during > 0, "no writes while the backup ran"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert 60 < manifest["tables"]["casework_contact"] < Contact.objects.count()

    restored = manage(target_url, "restore", "--input", str(folder))
    assert restored.returncode == 0, restored.stderr
    checked = manage(target_url, "check_restore", "--input", str(folder))
    assert checked.returncode == 0, checked.stderr
    assert "Restore check passed" in checked.stdout
