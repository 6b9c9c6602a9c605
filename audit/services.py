"""Writing and verifying the audit trail.

`record` appends one event to the chain inside the caller's transaction: if the event
cannot be written, the change it records rolls back with it (fail closed). Appends are
serialised — on PostgreSQL by a transaction-scoped advisory lock, on SQLite by the write
lock every IMMEDIATE transaction takes — so concurrent writers cannot fork the chain.
Call it as the last step of a service, so the lock is held briefly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import connection, models, transaction
from django.utils import timezone

from . import context
from .models import GENESIS_HASH, OBJECT_REF_MAX, Action, Event

# The advisory lock that serialises audit appends, named by an arbitrary constant
# (0x61756469, "audi"), and the read of the chain's newest event.
_LOCK_CHAIN = "SELECT pg_advisory_xact_lock(1635083369); "
_NEWEST_EVENT = "SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1"

_PSEUDONYMOUS_ATTRS = ("code", "username")


def object_reference(obj: models.Model) -> tuple[str, str]:
    """(model label, pseudonymous reference) of a model instance."""
    for attr in _PSEUDONYMOUS_ATTRS:
        value = getattr(obj, attr, None)
        if value:
            return obj._meta.label, str(value)
    return obj._meta.label, str(obj.pk)


def _hold_chain() -> tuple[int, str]:
    """Serialise appends for the rest of the transaction; (seq, hash) of the newest event.

    On PostgreSQL the lock and the read go in one round trip: each statement of a
    multi-statement query takes its own snapshot under READ COMMITTED, so the read sees
    every event committed before the lock was granted.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_LOCK_CHAIN + _NEWEST_EVENT)
            cursor.nextset()
        else:
            cursor.execute(_NEWEST_EVENT)
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (0, GENESIS_HASH)


def record(
    action: Action | str,
    *,
    obj: models.Model | None = None,
    object_type: str = "",
    object_ref: str = "",
    detail: dict[str, Any] | None = None,
    actor: AbstractUser | None = None,
) -> Event:
    """Append an event. `detail` holds ids, counts and reasons — never decrypted content.
    `actor` is the project's user (audit imports no app, so it is named by Django's
    abstract user), by default the request's."""
    request_context = context.current()
    if actor is None and request_context is not None:
        actor = request_context.user
    if obj is not None:
        object_type, object_ref = object_reference(obj)
    # No savepoint inside the caller's transaction: an event that cannot be written must
    # roll back the change it records, not only itself.
    with transaction.atomic(savepoint=False):
        last_seq, last_hash = _hold_chain()
        event = Event(
            seq=last_seq + 1,
            occurred_at=timezone.now(),
            action=str(action),
            actor_id=getattr(actor, "pk", None),
            actor_label=getattr(actor, "username", "") or "",
            organisation_id=getattr(actor, "organisation_id", None),
            object_type=object_type,
            # Every caller's reference fits the column on every database (PostgreSQL
            # refuses an over-long value, SQLite would store it whole).
            object_ref=str(object_ref)[:OBJECT_REF_MAX],
            detail=detail or {},
            request_id=request_context.request_id if request_context else "",
            source_ip=request_context.source_ip if request_context else None,
            prev_hash=last_hash,
        )
        event.hash = event.compute_hash()
        event.save(force_insert=True)
    return event


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""
    head_seq: int | None = None
    head_hash: str = ""


def verify_chain(*, expected_head: dict[str, Any] | None = None) -> Verification:
    """Walk the chain in order; name the first event whose link or content is wrong.

    `expected_head` is a head exported earlier ({"seq", "hash"}): it proves that the newest
    events were not deleted since, which the chain alone cannot show.
    """
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    previous: Event | None = None
    for event in Event.objects.order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            return Verification(
                False,
                checked,
                event.seq,
                f"sequence jumps from {expected_seq - 1} to {event.seq}: events are missing",
            )
        if event.prev_hash != expected_prev:
            return Verification(
                False,
                checked,
                event.seq,
                "link to the previous event is broken (an event before it was changed, "
                "removed or inserted)",
            )
        if event.compute_hash() != event.hash:
            return Verification(False, checked, event.seq, "content does not match its hash")
        checked += 1
        expected_prev = event.hash
        expected_seq += 1
        previous = event
    head_seq = previous.seq if previous else 0
    head_hash = previous.hash if previous else GENESIS_HASH
    if expected_head is not None:
        want_seq, want_hash = int(expected_head["seq"]), str(expected_head["hash"])
        if head_seq < want_seq:
            return Verification(
                False,
                checked,
                head_seq + 1,
                f"the chain ends at {head_seq} but the exported head is {want_seq}: "
                "the newest events were deleted",
            )
        stored = Event.objects.filter(seq=want_seq).values_list("hash", flat=True).first()
        if want_seq and stored != want_hash:
            return Verification(False, checked, want_seq, "event does not match the exported head")
    return Verification(True, checked, head_seq=head_seq, head_hash=head_hash)


def chain_head() -> dict[str, Any]:
    last = Event.objects.order_by("-seq").values("seq", "hash", "occurred_at").first()
    if last is None:
        return {"seq": 0, "hash": GENESIS_HASH, "occurred_at": None}
    return {**last, "occurred_at": last["occurred_at"].isoformat()}
