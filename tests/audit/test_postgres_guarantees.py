"""What PostgreSQL itself guarantees: triggers refuse changes; concurrent appends never fork."""

from __future__ import annotations

import threading

import pytest
from django.db import DatabaseError, connection, connections, transaction

from audit.models import Action, Event
from audit.services import record, verify_chain

pytestmark = pytest.mark.postgres


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET object_ref = 'x'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
    ],
)
def test_the_database_refuses_update_delete_and_truncate(statement):
    record(Action.VIEW, object_type="test", object_ref="row")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert Event.objects.count() == 1


def test_eight_concurrent_writers_leave_one_unbroken_chain(transactional_db):
    writers, per_writer = 8, 100
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            barrier.wait()
            for i in range(per_writer):
                record(Action.VIEW, object_type="test", object_ref=f"w{worker}-{i}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    result = verify_chain()
    assert result.ok, result.problem
    assert result.checked == writers * per_writer == Event.objects.count()
    assert len(set(Event.objects.values_list("prev_hash", flat=True))) == writers * per_writer
