"""The server process as gunicorn loads it (config.wsgi)."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings


def test_loading_the_application_sets_its_objects_aside_from_the_collector(tmp_path):
    """config.wsgi freezes what starting made, so full collections do not walk it (without,
    one took up to 100 ms of a request: docs/scaling.md)."""
    # This run's keys (tests/ephemeral_env.py), a database of its own.
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}
    probe = (
        "import gc; before = gc.get_freeze_count(); import config.wsgi; "
        "print(before, gc.get_freeze_count(), callable(config.wsgi.application))"
    )
    result = subprocess.run(  # noqa: S603 (this interpreter, a fixed probe)
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=env,
        cwd=settings.BASE_DIR,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    before, after, has_application = result.stdout.split()
    assert int(before) == 0
    assert int(after) > 10_000  # Django and the apps: some hundred thousand objects
    assert has_application == "True"
