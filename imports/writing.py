"""Writing the checked rows of an import through casework's bulk writers
(`casework.writers`), which apply the rules the single-record services apply: data keys,
codes, birth years, the contact's attribute snapshot and the organisation's key for the
year of an anonymous contact, the case's `last_contact_at`, lead workers, and history
rows naming the importer with the reason "import <batch>". What only an import has is
written here: the legacy case numbers (`LegacyReference`) and the progress callback.
"""

from __future__ import annotations

import datetime
import uuid

from django.utils import timezone

from accounts.models import User
from accounts.policy import organisation_of
from casework import writers
from casework.models import Case, Client, Contact

from .models import ImportBatch, LegacyReference
from .validation import (
    CASE_FIELDS,
    CLIENT_FIELDS,
    CONTACT_FIELDS,
    Plan,
    Progress,
    Row,
    has_client,
)


def history_reason(batch: ImportBatch) -> str:
    return f"import {batch.id}"


def occurred_at(row: Row) -> datetime.datetime:
    occurred = row.values["occurred_on"]
    if isinstance(occurred, datetime.datetime):
        moment = occurred
    else:
        moment = datetime.datetime.combine(
            occurred, row.values.get("occurred_time") or datetime.time()
        )
    return timezone.make_aware(moment)


def write_contacts(
    actor: User, plan: Plan, *, batch: ImportBatch, progress: Progress | None
) -> None:
    now = timezone.now()
    year_keys: dict[tuple[int, int], uuid.UUID] = {}
    organisation_id = organisation_of(actor)
    contacts = [
        Contact(
            occurred_at=occurred_at(row),
            organisation_id=organisation_id,
            staff_id=row.user_id or actor.pk,
            case=row.case,
            municipality_id=row.municipality_id,
            updated_by=actor,
            updated_at=now,
            created_at=now,
            **{key: row.values[key] for key in CONTACT_FIELDS if key in row.values},
        )
        for row in plan.rows
    ]
    for chunk in writers.chunks(contacts):
        writers.bulk_log_contacts(
            chunk, user=actor, reason=history_reason(batch), date=now, year_keys=year_keys
        )
        if progress:
            progress("write", len(chunk))


def write_cases(actor: User, plan: Plan, *, batch: ImportBatch, progress: Progress | None) -> None:
    now = timezone.now()
    organisation_id = organisation_of(actor)
    for rows in writers.chunks(plan.rows):
        opened = [_new_case(actor, row, organisation_id=organisation_id, now=now) for row in rows]
        writers.bulk_open_cases(opened, user=actor, reason=history_reason(batch), date=now)
        LegacyReference.objects.bulk_create(
            [
                LegacyReference(
                    organisation_id=organisation_id,
                    reference=row.values["case_ref"],
                    case=new.case,
                    batch=batch,
                )
                for row, new in zip(rows, opened, strict=True)
                if "case_ref" in row.values
            ]
        )
        if progress:
            progress("write", len(rows))


def _new_case(
    actor: User, row: Row, *, organisation_id: int, now: datetime.datetime
) -> writers.NewCase:
    client = None
    if has_client(row):
        client_fields = {k: row.values[k] for k in CLIENT_FIELDS if k in row.values}
        client_fields.pop("municipality", None)  # resolved to municipality_id
        client = Client(
            organisation_id=organisation_id,
            municipality_id=row.municipality_id,
            updated_by=actor,
            updated_at=now,
            created_at=now,
            **client_fields,
        )
    case = Case(
        organisation_id=organisation_id,
        updated_by=actor,
        updated_at=now,
        created_at=now,
        **writers.opening_fields({k: row.values[k] for k in CASE_FIELDS if k in row.values}),
    )
    return writers.NewCase(case, client, [row.user_id or actor.pk])
