"""How long anything may wait on the database, and on a worker: one set of bounds read from
the environment by the settings and by gunicorn.conf.py alike, so that the two agree.

The reasoning (docs/architecture.md, "Faults and timeouts"): a request must end before
gunicorn's worker timeout, whatever the database does. PostgreSQL enforces the statement,
lock and idle-in-transaction timeouts itself (they are sent in the connection's startup
options); a database that is frozen or unreachable cannot enforce anything, so the client
bounds each wait for an answer too (config/postgresql: the statement timeout plus
CLIENT_MARGIN) and the connection attempt (connect timeout). Reports and exports may raise
the statement timeout up to the long statement timeout (config.database), which with the
margin must stay below the worker timeout.

This module imports nothing from Django: gunicorn reads it before the application loads.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# Seconds the client waits for an answer beyond the server's own statement timeout before
# it gives the connection up (the server normally answers with the cancellation first).
CLIENT_MARGIN = 2.0


class TimeoutSettingError(ValueError):
    """A timeout variable is malformed, or the bounds contradict each other."""


@dataclass(frozen=True)
class Timeouts:
    """All in seconds. 0 for statement, lock or idle means none (management commands)."""

    statement: float = 10.0
    long_statement: float = 25.0
    lock: float = 5.0
    idle_in_transaction: float = 60.0
    connect: int = 5
    sqlite_busy: float = 20.0
    health: float = 3.0
    worker: int = 30

    def postgres_options(self) -> str:
        """The `-c name=value` startup options of a PostgreSQL session."""
        values = {
            "statement_timeout": self.statement,
            "lock_timeout": self.lock,
            "idle_in_transaction_session_timeout": self.idle_in_transaction,
        }
        return " ".join(f"-c {name}={milliseconds(value)}" for name, value in values.items())

    def client_wait(self, statement: float | None = None) -> float | None:
        """How long the client waits for one answer with this statement timeout."""
        statement = self.statement if statement is None else statement
        return statement + CLIENT_MARGIN if statement else None

    def without_statement_bounds(self) -> Timeouts:
        """Management commands (migrations, backups, purges) may run long statements and
        wait for locks as an operator expects; only the connection attempt stays bounded."""
        return Timeouts(
            statement=0,
            long_statement=0,
            lock=0,
            idle_in_transaction=0,
            connect=self.connect,
            sqlite_busy=self.sqlite_busy,
            health=self.health,
            worker=self.worker,
        )


def milliseconds(seconds: float) -> int:
    return math.ceil(seconds * 1000)


VARIABLES = {
    "statement": "DATABASE_STATEMENT_TIMEOUT",
    "long_statement": "DATABASE_LONG_STATEMENT_TIMEOUT",
    "lock": "DATABASE_LOCK_TIMEOUT",
    "idle_in_transaction": "DATABASE_IDLE_TRANSACTION_TIMEOUT",
    "connect": "DATABASE_CONNECT_TIMEOUT",
    "sqlite_busy": "SQLITE_BUSY_TIMEOUT",
    "health": "HEALTH_CHECK_TIMEOUT",
    "worker": "WORKER_TIMEOUT",
}


Lookup = Mapping[str, str] | Callable[[str], str | None]


def from_environment(environ: Lookup = os.environ) -> Timeouts:
    """Read and check the bounds; raise TimeoutSettingError saying what to change."""
    get = environ if callable(environ) else environ.get
    defaults = Timeouts()
    values: dict[str, float] = {}
    for field, name in VARIABLES.items():
        raw = (get(name) or "").strip()
        if not raw:
            values[field] = getattr(defaults, field)
            continue
        try:
            value = float(raw)
        except ValueError:
            raise TimeoutSettingError(f"{name} must be a number of seconds, not {raw!r}.") from None
        if not math.isfinite(value) or value <= 0:
            raise TimeoutSettingError(f"{name} must be more than 0 seconds, not {raw!r}.")
        values[field] = value
    for field in ("connect", "worker"):
        if values[field] != int(values[field]):
            raise TimeoutSettingError(f"{VARIABLES[field]} must be whole seconds.")
        values[field] = int(values[field])
    found = Timeouts(**values)  # type: ignore[arg-type]
    _check(found)
    return found


def _check(t: Timeouts) -> None:
    def name(field: str) -> str:
        return f"{VARIABLES[field]} ({getattr(t, field):g} s)"

    if t.long_statement < t.statement:
        raise TimeoutSettingError(
            f"{name('long_statement')} must be at least {name('statement')}: it raises the "
            "statement timeout for reports and exports."
        )
    if t.long_statement + CLIENT_MARGIN >= t.worker:
        raise TimeoutSettingError(
            f"{name('long_statement')} plus {CLIENT_MARGIN:g} s must stay below "
            f"{name('worker')}, or gunicorn kills a report's worker before the database "
            "gives up on it. Raise WORKER_TIMEOUT or lower the long statement timeout."
        )
    for field in ("lock", "connect", "sqlite_busy", "health"):
        if getattr(t, field) >= t.worker:
            raise TimeoutSettingError(f"{name(field)} must stay below {name('worker')}.")
    if t.connect < 2:
        raise TimeoutSettingError(f"{name('connect')} must be at least 2 (libpq's minimum).")
