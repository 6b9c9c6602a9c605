"""Sending the statistics' reads to a PostgreSQL streaming replica.

With `STATISTICS_DATABASE_URL` set, config/settings.py adds the database alias `statistics`
and installs `StatisticsRouter`. Code that counts for the plan's figures (the metric
evaluation and breakdowns in `indicators.metrics`) runs its queries inside
`statistics_reads()`; the router sends those reads to the replica, and everything else —
every write, every other read, every migration — to `default`. Without the setting the
context does nothing and all queries go to `default`.

A read inside a transaction on `default` stays on `default`: the replica cannot see the
transaction's own uncommitted rows, and a report frozen in a transaction (a submitted
snapshot) must count what that transaction sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

STATISTICS_DB_ALIAS = "statistics"

_statistics_reads: ContextVar[bool] = ContextVar("statistics_reads", default=False)


@contextmanager
def statistics_reads() -> Iterator[None]:
    """Reads in this block may come from the statistics replica, when one is configured."""
    token = _statistics_reads.set(True)
    try:
        yield
    finally:
        _statistics_reads.reset(token)


class StatisticsRouter:
    def db_for_read(self, model: type, **hints: Any) -> str | None:
        if _statistics_reads.get() and not connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return STATISTICS_DB_ALIAS
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model: type, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS  # a replica is read-only; it follows the primary
