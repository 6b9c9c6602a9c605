"""Decrypted content never reaches logs, audit events or error messages."""

from __future__ import annotations

import datetime
import logging

import pytest
from django.db import connection

from audit.models import Action, Event
from audit.services import record
from casework import crypto
from casework.models import Client, DataKey
from tests.factories import make_case, make_client

pytestmark = pytest.mark.django_db

CANARY = "CANARY-4b1d-漏えい検知"


def test_a_canary_value_never_appears_in_logs_or_audit_events(caplog, client):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")
    connection.force_debug_cursor = True  # log every SQL statement with its parameters
    try:
        person = make_client(
            name=CANARY,
            name_kana=CANARY,
            phone="0000000000",
            notes=CANARY,
            birth_date=datetime.date(2000, 1, 1),
        )
        loaded = Client.objects.get(pk=person.pk)
        assert loaded.name == CANARY  # it was decrypted in this process
        loaded.notes = CANARY + " updated"
        loaded.save()
        record(Action.IDENTITY_REVEAL, obj=loaded, detail={"fields": ["name", "phone"]})
        case = make_case(client=loaded, summary=CANARY)
        record(Action.VIEW, obj=case)
        client.get("/")  # a request through the whole middleware stack, logged
    finally:
        connection.force_debug_cursor = False

    logged = "\n".join(r.getMessage() + repr(getattr(r, "args", "")) for r in caplog.records)
    assert "casework_client" in logged  # the SQL really was logged
    assert CANARY not in logged
    events = list(Event.objects.values())
    assert len(events) >= 2
    assert CANARY not in repr(events)


def test_decryption_errors_name_the_row_but_never_the_content():
    person = make_client(notes=CANARY)
    DataKey.objects.get(pk=person.data_key_id).destroy()
    stored = Client.objects.filter(pk=person.pk).values_list("notes", flat=True).get()
    with pytest.raises(crypto.DataKeyDestroyed) as destroyed:
        crypto.decrypt_value(stored, crypto.associated_data("casework.client", "notes", person.pk))
    assert CANARY not in str(destroyed.value)

    other = make_client(notes=CANARY)
    with pytest.raises(crypto.DecryptionError) as wrong_row:
        crypto.decrypt_value(
            Client.objects.filter(pk=other.pk).values_list("notes", flat=True).get(),
            crypto.associated_data("casework.client", "notes", "another-row"),
        )
    assert CANARY not in str(wrong_row.value)
    assert "another-row" in str(wrong_row.value)
