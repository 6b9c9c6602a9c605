"""Django's PostgreSQL backend, with every wait for the server bounded on the client too.

The server enforces the statement, lock and idle-in-transaction timeouts (config/timeouts.py),
but a server that is frozen (stopped, swapping, its disk hung) or cut off answers nothing,
and psycopg would wait for ever: a request would hold its gunicorn worker until the worker
timeout killed it, and a worker started in its place would hang the same way. Here each
wait for an answer gives up after the statement timeout plus a margin (`wait_limit` of the
connection; config.database.longer_statement_timeout raises it with the statement timeout),
drops the connection, whose state is then unknown, and raises OperationalError: the request
ends with the 503 page (operations.outage) and the next one connects afresh, which the
connect timeout bounds. Management commands run without statement bounds, and so without
this limit.
"""

from __future__ import annotations

from typing import Any

import psycopg
from django.db.backends.postgresql import base


class BoundedConnection(psycopg.Connection):
    """A psycopg connection whose waits for the server end after `wait_limit` seconds."""

    wait_limit: float | None = None

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        if timeout is None:
            timeout = self.wait_limit
        try:
            return super().wait(gen, interval=interval, timeout=timeout)
        except psycopg.errors._WaitTimeout:
            # The answer may still come, to a request that has moved on: never reuse it.
            self.pgconn.finish()
            raise psycopg.OperationalError(
                f"no answer from the database server within {timeout:g} s; connection closed"
            ) from None


class _Psycopg:
    """psycopg as Django's backend uses it, connecting with BoundedConnection."""

    connect = staticmethod(BoundedConnection.connect)

    def __getattr__(self, name: str) -> Any:
        return getattr(psycopg, name)


class DatabaseWrapper(base.DatabaseWrapper):
    Database = _Psycopg()

    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        # Ours, not libpq's: the client's bound on each wait (config/settings.py).
        self.wait_limit = params.pop("wait_limit", None)
        return params

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        connection.wait_limit = getattr(self, "wait_limit", None)
        return connection

    def is_usable(self) -> bool:
        """The check of a reused connection (CONN_HEALTH_CHECKS) waits no longer than a
        new connection would: when it fails, Django connects afresh, within the connect
        timeout, and the request's bound is not spent twice."""
        if self.connection is None or not self.connection.wait_limit:
            return super().is_usable()
        limit = self.connection.wait_limit
        connect = self.settings_dict["OPTIONS"].get("connect_timeout", limit)
        self.connection.wait_limit = min(limit, connect)
        try:
            return super().is_usable()
        finally:
            self.connection.wait_limit = limit

    def set_autocommit(
        self, autocommit: bool, force_begin_transaction_with_broken_autocommit: bool = False
    ) -> None:
        """Leaving a transaction whose connection was dropped (a wait ran out, the server
        went away) does not connect only to switch autocommit back on: the next use
        connects, in autocommit mode, and a dead server costs the request no extra wait."""
        if (
            self.connection is None
            and autocommit == self.settings_dict["AUTOCOMMIT"]
            and not self.in_atomic_block
        ):
            self.autocommit = autocommit
            return
        super().set_autocommit(autocommit, force_begin_transaction_with_broken_autocommit)
