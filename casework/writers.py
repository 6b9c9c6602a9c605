"""Writing casework records, one or thousands, by one set of rules.

The single-record services (`casework.services.open_case`, `log_contact`,
`record_milestone`) check the permission, validate and audit, then write through these
functions; the import, the demo seed and the benchmark generator call them for thousands
of rows. `bulk_create` skips `save()` and the history signals, so what those would do is
done here, on every path alike:

- each new case and client: a data key of its own (`DataKey.new()`), a code unique in the
  table and in the batch, `birth_year` from the birth date (as `Client.save`), and
  `updated_by` (the writing user when the row names nobody);
- a new case's status holds since it opened, or since it closed for a case entered closed
  (`opening_fields`);
- each contact: its case's data key, or for an anonymous contact its organisation's key for
  the fiscal year of the contact; with a case whose person is registered, the snapshot of
  the person's age band (on the day of the contact), gender and residence (without a
  registered person the caller gives the snapshot); then the case's `last_contact_at`;
- lead workers, recorded on the case's first history row: one history row shows the case
  as it was opened, lead workers included;
- one history row (`+`) per record, naming the row's `_history_user` if the caller set one,
  else its `updated_by` (a milestone: its `recorded_by`), dated `_history_date` or `date`
  or now, with the caller's change `reason`.

Field encryption and the blind indexes are computed by the fields' `pre_save`, which
`bulk_create` calls. Audit events are the caller's: a service records one per record, a
bulk caller one for its batch (the import, the demo seed). Call these inside the caller's
transaction; each is atomic on its own too.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import models, transaction
from django.db.models import F, OuterRef, Q, Subquery, When
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accounts.models import User

from .models import Case, Client, Contact, DataKey, Milestone, new_code
from .periods import age_band, fiscal_year

BATCH_SIZE = 500  # rows per INSERT, and ids per `IN (...)`
FEW_CASES = 50  # see _bring_last_contact_forward

T = TypeVar("T")


@dataclass
class NewCase:
    """One case to open: its unsaved row, its person's unsaved row (or None), and the ids
    of its lead workers (or the users)."""

    case: Case
    client: Client | None = None
    lead_worker_ids: Sequence[User | int] = ()


def chunks(items: Sequence[T], *, size: int = BATCH_SIZE) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- cases and clients ----------------------------------------------------------------------


def opening_fields(case_fields: dict[str, Any]) -> dict[str, Any]:
    """`case_fields` with the status date of a new case: the day it opened, or the day it
    closed for a case entered closed, unless the caller gives one (the meeting pack asks
    how long a status has held)."""
    fields = dict(case_fields)
    if "opened_on" in fields:
        fields.setdefault("status_changed_on", fields.get("closed_on") or fields["opened_on"])
    return fields


def assign_codes(rows: Sequence[Client] | Sequence[Case], *, model: type[Client | Case]) -> None:
    """Give each new row a code unused in the table and among the rows: a row without one
    gets one, a clash is drawn again (as `PseudonymousRecord.save` draws them one by one;
    a clash among 32^6 codes is rare, but it would abort a whole bulk insert)."""
    while True:
        seen: set[str] = set()
        for row in rows:
            while not row.code or row.code in seen:
                row.code = new_code(model.code_prefix)
            seen.add(row.code)
        taken: set[str] = set()
        for chunk in chunks(sorted(seen)):
            taken.update(
                model.objects.unscoped().filter(code__in=chunk).values_list("code", flat=True)
            )
        if not taken:
            return
        for row in rows:
            if row.code in taken:
                row.code = ""


@transaction.atomic(savepoint=False)
def bulk_open_cases(
    new_cases: Sequence[NewCase],
    *,
    user: User | None = None,
    reason: str | None = None,
    date: datetime.datetime | None = None,
) -> list[Case]:
    """Write new cases, their people and their lead workers, with history rows.

    `user` is who writes: the `updated_by` of rows that name nobody. `reason` and `date`
    are the history rows' change reason and date (a row's `_history_date` wins). Returns
    the cases, saved, in the order given.
    """
    clients = [new.client for new in new_cases if new.client is not None]
    cases = [new.case for new in new_cases]
    keys: dict[uuid.UUID, DataKey] = {}
    for client in clients:
        _prepare(client, user, keys)
        if isinstance(client.birth_date, datetime.date):  # as Client.save
            client.birth_year = client.birth_date.year
    for new in new_cases:
        _prepare(new.case, user, keys)
        if new.client is not None:
            new.case.client = new.client
    assign_codes(clients, model=Client)
    assign_codes(cases, model=Case)
    DataKey.objects.bulk_create(list(keys.values()), batch_size=BATCH_SIZE)
    _with_history(Client, clients, reason=reason, date=date)
    _with_history(Case, cases, reason=reason, date=date)
    add_lead_workers(
        [(new.case.pk, _pk(worker)) for new in new_cases for worker in new.lead_worker_ids]
    )
    return cases


def _prepare(row: Client | Case, user: User | None, keys: dict[uuid.UUID, DataKey]) -> None:
    """A new row's own data key (made here when it has none, or saved here when the caller
    made it with `DataKey.new()`) and its writer."""
    given = row._state.fields_cache.get("data_key")
    if row.data_key_id is None:
        row.data_key = given = DataKey.new()
    if given is not None and given._state.adding:
        keys[given.pk] = given
    if row.updated_by_id is None and user is not None:
        row.updated_by = user


def add_lead_workers(pairs: Sequence[tuple[uuid.UUID, int]]) -> None:
    """Lead workers of new cases, (case id, user id), and their history rows on each
    case's first history row: what `case.lead_workers.set()` records, without a second
    history row for the same opening."""
    through = Case.lead_workers.through
    history_through = Case.history.model.lead_workers.model
    through.objects.bulk_create(
        [through(case_id=case_id, user_id=user_id) for case_id, user_id in pairs],
        batch_size=BATCH_SIZE,
    )
    case_ids = sorted({case_id for case_id, _user in pairs})
    for chunk in chunks(case_ids):
        first_rows = dict(
            Case.history.filter(id__in=chunk, history_type="+").values_list("id", "history_id")
        )
        history_through.objects.bulk_create(
            [
                history_through(
                    id=row_id, case_id=case_id, user_id=user_id, history_id=first_rows[case_id]
                )
                for row_id, case_id, user_id in through.objects.filter(
                    case_id__in=chunk
                ).values_list("id", "case_id", "user_id")
            ],
            batch_size=BATCH_SIZE,
        )


# --- contacts and milestones --------------------------------------------------------------


def apply_contact_rules(
    contact: Contact, *, year_keys: dict[tuple[int, int], uuid.UUID] | None = None
) -> None:
    """What a contact takes from its case, or from its organisation and year.

    With a case: the case's data key and, when the case has a registered person, the
    snapshot of that person's age band on the contact's day, gender and residence. Without
    one (an anonymous contact): its organisation's data key for the fiscal year of the
    contact (`year_keys` caches them by (organisation id, year) across calls)."""
    day = timezone.localtime(contact.occurred_at).date()
    case = contact.case
    if case is not None:
        contact.data_key_id = case.data_key_id
        client = case.client
        if client is not None:
            contact.age_band = age_band(client.birth_year, day)
            contact.gender = client.gender
            contact.municipality_id = client.municipality_id
        return
    year_keys = {} if year_keys is None else year_keys
    year = (contact.organisation_id, fiscal_year(day))
    if year not in year_keys:
        year_keys[year] = DataKey.for_organisation_year(*year).pk
    contact.data_key_id = year_keys[year]


@transaction.atomic(savepoint=False)
def bulk_log_contacts(
    contacts: Sequence[Contact],
    *,
    user: User | None = None,
    reason: str | None = None,
    date: datetime.datetime | None = None,
    year_keys: dict[tuple[int, int], uuid.UUID] | None = None,
) -> list[Contact]:
    """Write new contacts (their `case`, `organisation`, `staff`, `occurred_at` and content
    set by the caller) by `apply_contact_rules`, with history rows, and bring their cases'
    `last_contact_at` forward. `user`, `reason`, `date` as `bulk_open_cases`."""
    year_keys = {} if year_keys is None else year_keys
    for contact in contacts:
        apply_contact_rules(contact, year_keys=year_keys)
        if contact.updated_by_id is None and user is not None:
            contact.updated_by = user
    _with_history(Contact, contacts, reason=reason, date=date)
    _bring_last_contact_forward(contacts)
    return list(contacts)


def _bring_last_contact_forward(contacts: Sequence[Contact]) -> None:
    """Each case's `last_contact_at` to its latest new contact when that is later. Up to
    FEW_CASES cases, one UPDATE each with the time in hand (a contact logged on screen);
    beyond, `refresh_last_contact` by the cases' latest stored contacts: the same rule."""
    latest: dict[uuid.UUID, datetime.datetime] = {}
    for contact in contacts:
        if contact.case_id is not None:
            known = latest.get(contact.case_id)
            latest[contact.case_id] = max(known or contact.occurred_at, contact.occurred_at)
    if len(latest) > FEW_CASES:
        refresh_last_contact(latest)
        return
    for case_id, at in latest.items():
        Case.objects.unscoped().filter(pk=case_id).exclude(last_contact_at__gt=at).update(
            last_contact_at=at
        )


def refresh_last_contact(case_ids: Iterable[uuid.UUID]) -> None:
    """Each case's `last_contact_at`: its latest contact, never earlier than what is stored
    (a derived column, not history). Compared with the stored value in the UPDATE itself,
    so that two writers on one case keep the later of their contacts."""
    latest = Subquery(
        Contact.objects.unscoped()
        .filter(case=OuterRef("pk"))
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    later = Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=latest)
    for chunk in chunks(sorted(case_ids)):
        Case.objects.unscoped().filter(pk__in=chunk).update(
            last_contact_at=models.Case(When(later, then=latest), default=F("last_contact_at"))
        )


@transaction.atomic(savepoint=False)
def bulk_record_milestones(
    milestones: Sequence[Milestone],
    *,
    reason: str | None = None,
    date: datetime.datetime | None = None,
) -> list[Milestone]:
    """Write new milestones under their case's data key, with history rows naming their
    `recorded_by`."""
    for milestone in milestones:
        milestone.data_key_id = milestone.case.data_key_id
    _with_history(Milestone, milestones, reason=reason, date=date, user_field="recorded_by")
    return list(milestones)


# --- history --------------------------------------------------------------------------------


def _with_history(
    model: type[models.Model],
    # Any: simple_history reads `_history_user` and `_history_date` set on the instances,
    # attributes no model declares.
    rows: Sequence[Any],
    *,
    reason: str | None,
    date: datetime.datetime | None,
    user_field: str = "updated_by",
) -> None:
    """`bulk_create` with one `+` history row each, naming `_history_user` when the row
    has one, else the user in `user_field`."""
    if not rows:
        return
    missing = {
        getattr(row, f"{user_field}_id")
        for row in rows
        if not hasattr(row, "_history_user") and user_field not in row._state.fields_cache
    }
    users = User.objects.in_bulk(missing - {None})
    for row in rows:
        if not hasattr(row, "_history_user"):
            cached = row._state.fields_cache.get(user_field)
            row._history_user = cached or users.get(getattr(row, f"{user_field}_id"))
    for chunk in chunks(rows):
        bulk_create_with_history(
            list(chunk),
            model,
            batch_size=BATCH_SIZE,
            default_change_reason=reason,
            default_date=date,
        )


def _pk(worker: User | int) -> int:
    return worker if isinstance(worker, int) else worker.pk
