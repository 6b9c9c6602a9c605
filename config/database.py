"""Raising the statement timeout for the statements that legitimately need longer.

A web request's statements end after DATABASE_STATEMENT_TIMEOUT (config/timeouts.py).
Reports and exports read far more rows than a page: `longer_statement_timeout()` raises
the bound for their block to DATABASE_LONG_STATEMENT_TIMEOUT, which config/timeouts.py
keeps below the worker timeout, on the server (`statement_timeout`) and on the client
(the connection's wait limit, config/postgresql). Usable as a decorator.

Inside a transaction the raise is `SET LOCAL` (it can never outlive the transaction);
outside one it is a session setting put back when the block ends, and a connection on
which it cannot be put back is closed. On SQLite, and where no statement timeout applies
(management commands), it does nothing. Nested blocks keep the outermost raise.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from config.timeouts import milliseconds

STATISTICS = "config.routers.StatisticsRouter"


def _aliases() -> list[str]:
    """The connections the block's reads may use: the primary, and the statistics replica
    when its router is installed and the primary is not in a transaction (config.routers
    keeps reads inside a transaction on the primary)."""
    aliases = [DEFAULT_DB_ALIAS]
    if (
        "statistics" in settings.DATABASES
        and STATISTICS in getattr(settings, "DATABASE_ROUTERS", [])
        and not connections[DEFAULT_DB_ALIAS].in_atomic_block
    ):
        aliases.append("statistics")
    return [alias for alias in aliases if connections[alias].vendor == "postgresql"]


@contextmanager
def _raised(alias: str, seconds: float) -> Iterator[None]:
    connection = connections[alias]
    if getattr(connection, "long_statements", False):
        yield  # an outer block already raised it
        return
    timeouts = settings.DATABASE_TIMEOUTS
    local = connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('statement_timeout', %s, %s)",
            [f"{milliseconds(seconds)}ms", local],
        )
    raw = connection.connection
    before = getattr(raw, "wait_limit", None)
    raw.wait_limit = timeouts.client_wait(seconds)
    connection.long_statements = True
    failed = True
    try:
        yield
        failed = False
    finally:
        connection.long_statements = False
        raw.wait_limit = before
        if connection.connection is raw and not (local and failed):
            # After an error inside a transaction, its rollback ends the SET LOCAL.
            try:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT set_config('statement_timeout', %s, %s)",
                        [f"{milliseconds(timeouts.statement)}ms", local],
                    )
            except DatabaseError:
                if not local:
                    connection.close()  # a fresh session starts with the default
                if not failed:
                    raise


@contextmanager
def longer_statement_timeout(seconds: float | None = None) -> Iterator[None]:
    """Statements in this block may run up to `seconds` (default: the long statement
    timeout), never longer than the long statement timeout."""
    timeouts = settings.DATABASE_TIMEOUTS
    if not timeouts.statement:
        yield
        return
    seconds = min(seconds or timeouts.long_statement, timeouts.long_statement)
    with ExitStack() as stack:
        for alias in _aliases():
            stack.enter_context(_raised(alias, seconds))
        yield
