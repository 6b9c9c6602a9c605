"""The health check behind /healthz, for load balancers and monitoring.

It says `ok`, or names the first failing dependency — `database` (unreachable, or no
answer in time), `migrations` (the code expects migrations the database lacks), `keys`
(live data keys are wrapped by a key missing from FIELD_ENCRYPTION_KEYS) — and never
anything an outsider could use (no host, no error text, no key id); the details go to the
log, collapsed per outage by operations.outage.

The checks run on a thread of their own with its own connection, and the answer comes
after at most HEALTH_CHECK_TIMEOUT seconds whatever the database does: a database that
does not answer (frozen, or a network that drops packets) is reported as `database` when
the time is up, while the thread waits out its connect and statement timeouts. While one
such check is still waiting, the next ones answer `database` at once instead of starting
another thread: at most one is ever left waiting per process.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

logger = logging.getLogger(__name__)

DATABASE, MIGRATIONS, KEYS = "database", "migrations", "keys"
# A passed check of the migrations holds for the process (the code cannot gain migrations
# while it runs); a passed key check is repeated this often (another instance with a
# different key ring may write data keys this one cannot unwrap).
KEY_CHECK_SECONDS = 60.0


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: Future | None = None
        self.migrations_ok = False
        self.keys_ok_at: float | None = None


_state = _State()


def _migrations_pending(connection) -> bool:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def _keys_missing() -> bool:
    from casework.crypto import keyring
    from casework.models import DataKey

    return DataKey.objects.live().exclude(kek_id__in=list(keyring().ciphers)).exists()


def _check() -> str | None:
    """The first failing dependency, or None. Runs on the checking thread."""
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception as error:
            logger.warning("health: database unavailable", exc_info=error)
            return DATABASE
        try:
            if not _state.migrations_ok:
                if _migrations_pending(connection):
                    logger.error("health: migrations are pending; run manage.py migrate")
                    return MIGRATIONS
                _state.migrations_ok = True
            checked = _state.keys_ok_at
            if checked is None or time.monotonic() - checked > KEY_CHECK_SECONDS:
                if _keys_missing():
                    logger.error(
                        "health: data keys are wrapped by a key missing from "
                        "FIELD_ENCRYPTION_KEYS (manage.py rotate_keys, or restore the key)"
                    )
                    return KEYS
                _state.keys_ok_at = time.monotonic()
        except Exception as error:
            logger.warning("health: database unavailable", exc_info=error)
            return DATABASE
        return None
    finally:
        if connection.vendor != "sqlite":
            connection.close()


def _run(future: Future) -> None:
    try:
        future.set_result(_check())
    except BaseException as error:  # reported as the database; never leaves the thread
        future.set_exception(error)


def failing_dependency() -> str | None:
    """The name of the first failing dependency, or None; within HEALTH_CHECK_TIMEOUT."""
    if connections[DEFAULT_DB_ALIAS].vendor == "sqlite":
        # A file on this machine: it answers or fails at once (and a test's in-memory
        # database is reachable from this thread only).
        return _check()
    with _state.lock:
        if _state.pending is not None and not _state.pending.done():
            logger.warning(
                "health: the previous check still waits for the database",
                extra={"database_outage": True},
            )
            return DATABASE
        future: Future = Future()
        _state.pending = future
    threading.Thread(target=_run, args=(future,), name="health-check", daemon=True).start()
    try:
        return future.result(timeout=settings.DATABASE_TIMEOUTS.health)
    except TimeoutError:
        logger.warning(
            "health: no answer from the database within %g s",
            settings.DATABASE_TIMEOUTS.health,
            extra={"database_outage": True},
        )
        return DATABASE
    except Exception:
        return DATABASE
