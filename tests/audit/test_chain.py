"""The hash chain: intact after normal use, and every kind of tampering named."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from audit.models import Action, Event
from audit.services import chain_head, record, verify_chain
from tests.conftest import set_audit_triggers
from tests.factories import make_organisation, make_user

pytestmark = pytest.mark.django_db


def tamper(sql: str, params: list) -> None:
    """Change the table behind the application's back (triggers off on PostgreSQL)."""
    set_audit_triggers(False)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    finally:
        set_audit_triggers(True)


def write_events(count: int) -> list[Event]:
    actor = make_user()
    return [
        record(
            Action.VIEW,
            object_type="casework.Case",
            object_ref=f"C-{i:06d}",
            actor=actor,
            detail={"n": i, "note": "閲覧"},
        )
        for i in range(count)
    ]


def test_chain_verifies_after_normal_use_and_command_says_so(capsys):
    write_events(25)
    result = verify_chain()
    assert result.ok and result.checked == 25 and result.head_seq == 25
    call_command("verify_audit")
    assert "Audit chain intact: 25 events" in capsys.readouterr().out


def test_altering_one_event_in_the_middle_is_named():
    events = write_events(10)
    tamper("UPDATE audit_event SET object_ref = %s WHERE seq = %s", ["C-FORGED", events[4].seq])
    result = verify_chain()
    assert not result.ok
    assert result.first_bad_seq == events[4].seq
    assert "does not match its hash" in result.problem
    with pytest.raises(CommandError, match=f"BROKEN at event seq {events[4].seq}"):
        call_command("verify_audit")


def test_altering_the_detail_json_is_detected():
    events = write_events(5)
    tamper(
        "UPDATE audit_event SET detail = %s WHERE seq = %s",
        [json.dumps({"n": 99, "note": "閲覧"}), events[2].seq],
    )
    assert verify_chain().first_bad_seq == events[2].seq


def test_deleting_one_event_in_the_middle_is_named():
    events = write_events(10)
    tamper("DELETE FROM audit_event WHERE seq = %s", [events[5].seq])
    result = verify_chain()
    assert not result.ok
    assert result.first_bad_seq == events[6].seq
    assert "missing" in result.problem


def test_inserting_an_event_in_the_middle_is_named():
    events = write_events(6)
    # Make room by shifting the later events, then slip a forged row into the gap.
    tamper("UPDATE audit_event SET seq = seq + 1000 WHERE seq > %s", [events[2].seq])
    tamper("UPDATE audit_event SET seq = seq - 999 WHERE seq > 1000", [])
    forged = Event(
        seq=events[2].seq + 1,
        occurred_at=events[2].occurred_at,
        action="view",
        object_ref="C-FORGED",
        prev_hash=events[2].hash,
    )
    forged.hash = forged.compute_hash()
    forged.save()
    result = verify_chain()
    assert not result.ok
    # The forged row links correctly; the first real event after it cannot.
    assert result.first_bad_seq == events[2].seq + 2


def test_deleting_the_newest_events_is_detected_against_an_exported_head(tmp_path):
    events = write_events(8)
    head_file = tmp_path / "head.json"
    call_command("export_audit_head", output=head_file)
    assert json.loads(head_file.read_text())["seq"] == events[-1].seq
    tamper("DELETE FROM audit_event WHERE seq > %s", [events[5].seq])

    assert verify_chain().ok  # the chain alone cannot see a clean cut at the end
    result = verify_chain(expected_head=json.loads(head_file.read_text()))
    assert not result.ok and "newest events were deleted" in result.problem
    with pytest.raises(CommandError, match="newest events were deleted"):
        call_command("verify_audit", head=head_file)


def test_a_head_exported_earlier_still_verifies_after_more_events(tmp_path):
    write_events(3)
    head = chain_head()
    write_events(3)
    assert verify_chain(expected_head=head).ok


def test_events_cannot_be_changed_or_deleted_through_the_orm():
    event = write_events(1)[0]
    event.object_ref = "changed"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()


def test_history_managers_are_built_once_and_still_read_each_rows_history(db):
    first = make_organisation(name="一つ目")
    second = make_organisation(name="二つ目")
    assert type(first.history) is type(second.history)
    first.name = "一つ目（改称）"
    first.save()
    assert [h.name for h in first.history.order_by("history_date")] == ["一つ目", "一つ目（改称）"]
    assert second.history.count() == 1


def test_history_tables_index_the_recorded_row_not_the_copied_keys(db):
    from casework.models import Contact

    history = Contact.history.model
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, history._meta.db_table)
    indexed = {tuple(c["columns"]) for c in constraints.values() if c["index"] or c["unique"]}
    assert ("id",) in indexed  # a row's history is read by its id
    for column in ("case_id", "organisation_id", "staff_id", "data_key_id", "municipality_id"):
        assert (column,) not in indexed, column
