"""An audited change and its event commit together or not at all."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from accounts.models import Region
from audit.models import Action
from audit.services import record

pytestmark = pytest.mark.django_db


def audited_region_create(name: str) -> Region:
    """The shape of every service: write, then record, in one transaction."""
    with transaction.atomic():
        region = Region.objects.create(name=name)
        record(Action.CREATE, obj=region)
    return region


def test_a_failing_audit_write_rolls_back_the_change_it_records():
    # Make the audit table unwritable for real: it is renamed inside this transaction.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE audit_event RENAME TO audit_event_away")
        with pytest.raises(DatabaseError):
            audited_region_create("記録されない圏域")
        assert not Region.objects.filter(name="記録されない圏域").exists()
        transaction.set_rollback(True)


def test_the_change_and_its_event_commit_together():
    region = audited_region_create("記録される圏域")
    assert Region.objects.filter(pk=region.pk).exists()
    from audit.models import Event

    event = Event.objects.get(object_type="accounts.Region")
    assert event.action == Action.CREATE and event.object_ref == str(region.pk)
