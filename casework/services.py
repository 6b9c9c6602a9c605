"""Casework services: every write that is more than one row, with its audit event."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from audit.models import Action
from audit.services import record

from . import crypto
from .models import DataKey


def rewrap_data_keys(
    *, batch_size: int = 500, progress: Callable[[int], None] | None = None
) -> int:
    """Re-wrap every live data key under the active key of the ring.

    Touches DataKey rows only — no encrypted field value is read or written — so the cost
    grows with the number of cases, not with the amount of text. Each batch commits on
    its own: an interrupted run resumes where it stopped. Returns the number re-wrapped.
    """
    ring = crypto.keyring()
    pending = DataKey.objects.live().exclude(kek_id=ring.active_id).order_by("id")
    total = 0
    while True:
        with transaction.atomic():
            batch = list(pending.select_for_update()[:batch_size])
            if not batch:
                break
            for key in batch:
                material = ring.unwrap(key.kek_id, bytes(key.wrapped), key.id)
                key.kek_id, key.wrapped = ring.wrap(material, key.id)
            DataKey.objects.bulk_update(batch, ["kek_id", "wrapped"])
        total += len(batch)
        if progress is not None:
            progress(len(batch))
    with transaction.atomic():
        record(
            Action.KEY_ROTATION,
            object_type="casework.DataKey",
            object_ref=ring.active_id,
            detail={"rewrapped": total},
        )
    return total
