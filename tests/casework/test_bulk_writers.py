"""A record made by each bulk path (casework's writers, the import through its real
service and a real file, the benchmark generator) equals the one the single-record
services make from the same inputs: every stored field (sensitive ones decrypted through
the real crypto), the derived ones (codes aside: data keys, birth year, status date,
attribute snapshot, last contact), the blind indexes, the lead workers, and the history
rows with their lead workers. Each bulk-made record gets a twin through
`open_case` / `log_contact` / `record_milestone`, and the two are compared field by field.
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Set
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import models
from django.utils import timezone

from accounts.models import Organisation
from casework import services, writers
from casework.models import Case, Client, Contact, DataKey, Milestone
from tests.factories import make_organisation
from tests.imports.conftest import CONTACT_HEADER, contact_row, xlsx
from tests.imports.test_import_cases import CASE_HEADER, case_row
from tests.imports.test_import_contacts import run as run_import
from tests.world import World

pytestmark = pytest.mark.django_db

# Different on every path by design: row identities, random codes and keys, clocks, and
# the history's own bookkeeping (the change reason names the import or the seed).
UNIQUE = {"id", "code", "data_key", "created_at", "updated_at", "case", "client"}
HISTORY_OWN = {"history_id", "history_date", "history_change_reason"}
IDENTITY = ("name", "name_kana", "birth_date", "phone", "address", "notes")
SNAPSHOT = ("age_band", "gender", "municipality_id")


def inputs(model: type[models.Model], *, given: set[str]) -> tuple[str, ...]:
    """What a caller may give a new row (its editable columns), without what the service
    sets itself (`given`): a field added to the model is compared without a change here."""
    return tuple(
        f.attname for f in model._meta.concrete_fields if f.editable and f.attname not in given
    )


# Given by the service from the actor, the case or the client, or derived by the writer.
CASE_INPUTS = inputs(Case, given={"organisation_id", "client_id", "status_changed_on"})
CLIENT_ATTRIBUTES = inputs(Client, given={"organisation_id", *IDENTITY, "birth_year"})
CONTACT_INPUTS = inputs(Contact, given={"organisation_id", "staff_id", "case_id", *SNAPSHOT})


@pytest.fixture
def world(world: World) -> SimpleNamespace:
    """The shared world's centre, its counsellors and supervisor, the counsellor under the
    user name the import's rows give the lead worker (c1), and the municipality they name."""
    return SimpleNamespace(
        org=world.centre,
        counsellor=world.named(world.counsellor, "相談 一郎", username="c1"),
        colleague=world.colleague,
        supervisor=world.supervisor,
        tsu=make_organisation(Organisation.Kind.MUNICIPALITY, name="津市"),
    )


# --- what a record is, read back from the database --------------------------------------------


def fields(obj: models.Model, skip: Set[str] = frozenset()) -> dict[str, Any]:
    """Every stored column (encrypted ones decrypted by their field), but the unique ones."""
    return {
        field.name: getattr(obj, field.attname)
        for field in obj._meta.concrete_fields
        if field.name not in UNIQUE | HISTORY_OWN | skip
    }


def history(obj: Case | Client | Contact | Milestone) -> list[dict[str, Any]]:
    rows = []
    for row in obj.history.order_by("history_date", "history_id"):
        assert row.data_key_id == obj.data_key_id  # written under the row's own key
        entry = fields(row)
        if isinstance(obj, Case):
            entry["lead_workers"] = sorted(row.lead_workers.values_list("user_id", flat=True))
        rows.append(entry)
    return rows


def record_of(contact: Contact | Milestone) -> dict[str, Any]:
    return {"row": fields(contact), "history": history(contact)}


def case_record(case: Case) -> dict[str, Any]:
    case = Case.objects.select_related("client").get(pk=case.pk)  # as stored
    client = case.client
    keys = {case.data_key_id} | ({client.data_key_id} if client else set())
    assert len(keys) == (2 if client else 1)  # a key each, none shared
    assert DataKey.objects.filter(pk__in=keys, wrapped__isnull=False).count() == len(keys)
    contacts = list(case.contacts.order_by("occurred_at"))
    assert all(contact.data_key_id == case.data_key_id for contact in contacts)
    return {
        "case": fields(case),
        "case_history": history(case),
        "lead_workers": sorted(case.lead_workers.values_list("pk", flat=True)),
        "client": fields(client) if client else None,
        "client_history": history(client) if client else None,
        "contacts": [record_of(contact) for contact in contacts],
    }


# --- the same record through the single-record services ---------------------------------------


def service_twin(case: Case) -> Case:
    """A case with the same inputs as `case`, opened and contacted through the services."""
    case = Case.objects.select_related("client", "updated_by").get(pk=case.pk)
    client = case.client
    assert case.updated_by is not None  # every writer names one
    twin = services.open_case(
        case.updated_by,
        identity={f: getattr(client, f) for f in IDENTITY} if client else None,
        client_attributes={f: getattr(client, f) for f in CLIENT_ATTRIBUTES} if client else None,
        case_fields={f: getattr(case, f) for f in CASE_INPUTS},
        lead_workers=list(case.lead_workers.all()),
        confirm_duplicate=True,
    )
    for contact in case.contacts.select_related("staff").order_by("occurred_at"):
        contact_twin(contact, case=twin)
    return twin


def contact_twin(contact: Contact, *, case: Case | None) -> Contact:
    inputs = {f: getattr(contact, f) for f in CONTACT_INPUTS}
    if case is None or case.client is None:  # no person: the caller gives the snapshot
        inputs.update({f: getattr(contact, f) for f in SNAPSHOT})
    return services.log_contact(contact.staff, case=case, **inputs)


def assert_same(made: Case) -> None:
    record = case_record(made)
    twin = case_record(service_twin(made))
    assert record == twin
    # What makes the comparison worth having: the derived values are there.
    assert record["case"]["last_contact_at"] == max(
        c["row"]["occurred_at"] for c in record["contacts"]
    )
    assert record["lead_workers"] and record["case_history"][0]["lead_workers"]
    if record["client"]:
        assert record["client"]["kana_birth_index"] and record["client"]["birth_year"]


def assert_same_anonymous(contact: Contact) -> None:
    contact = Contact.objects.select_related("staff").get(pk=contact.pk)
    twin = contact_twin(contact, case=None)
    assert record_of(contact) == record_of(twin)
    assert contact.data_key_id == twin.data_key_id  # the organisation's key for the year
    assert DataKey.objects.get(pk=contact.data_key_id).fiscal_year is not None


# --- the paths -----------------------------------------------------------------------------------


def test_the_bulk_writer_makes_what_the_services_make(world):
    now = timezone.now()
    with_person = writers.NewCase(
        Case(
            organisation=world.org,
            **writers.opening_fields(
                {"opened_on": datetime.date(2024, 5, 7), "status": Case.Status.ACTIVE}
            ),
            withdrawal_band=Case.WithdrawalBand.UNDER_3Y,
            summary="【テスト】概要",
        ),
        Client(
            organisation=world.org,
            name="山田 太郎",
            name_kana="ヤマダ タロウ",
            birth_date=datetime.date(1990, 6, 1),
            phone="059-123-4567",
            notes="【テスト】備考",
            gender="male",
            municipality=world.tsu,
        ),
        [world.counsellor.pk, world.colleague.pk],
    )
    no_person = writers.NewCase(
        Case(organisation=world.org, **writers.opening_fields({"opened_on": now.date()})),
        None,
        [world.counsellor.pk],
    )
    case, bare = writers.bulk_open_cases([with_person, no_person], user=world.counsellor)
    contacts = [
        Contact(
            case=made,
            organisation=world.org,
            staff=world.counsellor,
            occurred_at=now - datetime.timedelta(days=days),
            kind=Contact.Kind.FIRST if days == 3 else Contact.Kind.CONTINUING,
            minutes=30,
            topics=["family"],
            summary=f"【テスト】{days}日前",
            follow_up="【テスト】電話する" if days == 1 else None,
            age_band="60p",  # the caller's snapshot, kept only for the case without a person
            gender="female",
        )
        for made in (case, bare)
        for days in (3, 1)
    ]
    anonymous = Contact(
        organisation=world.org,
        staff=world.colleague,
        updated_by=world.colleague,  # who logged it, as the service records it
        occurred_at=now,
        age_band="20s",
        gender="male",
        municipality=world.tsu,
        summary="【テスト】匿名",
    )
    writers.bulk_log_contacts([*contacts, anonymous], user=world.counsellor)

    assert_same(case)
    assert_same(bare)
    assert_same_anonymous(anonymous)
    from_person = Contact.objects.get(pk=contacts[0].pk)
    assert (from_person.age_band, from_person.gender, from_person.municipality_id) == (
        "30s" if now.year < 2030 else "40s",  # born 1990
        "male",
        world.tsu.pk,
    )
    assert Contact.objects.get(pk=contacts[2].pk).age_band == "60p"


def test_a_milestone_written_in_bulk_equals_one_recorded_by_the_service(world):
    case = services.open_case(
        world.counsellor, case_fields={"opened_on": datetime.date(2024, 5, 7)}
    )
    bulk = Milestone(
        case=case,
        kind=Milestone.Kind.IBASHO,
        achieved_on=datetime.date(2024, 9, 1),
        note="【テスト】",
        recorded_by=world.counsellor,
    )
    writers.bulk_record_milestones([bulk])
    single = services.record_milestone(
        world.counsellor, case, kind=bulk.kind, achieved_on=bulk.achieved_on, note=bulk.note
    )

    bulk, single = Milestone.objects.get(pk=bulk.pk), Milestone.objects.get(pk=single.pk)
    assert bulk.data_key_id == single.data_key_id == case.data_key_id
    assert record_of(bulk) == record_of(single)
    assert [row["history_user"] for row in history(bulk)] == [world.counsellor.pk]


def test_the_import_makes_what_the_services_make(world):
    run_import(world.supervisor, xlsx([CASE_HEADER, case_row("A-1")]), kind="cases", name="c.xlsx")
    case = Case.objects.get()
    run_import(
        world.supervisor,
        xlsx(
            [
                CONTACT_HEADER,
                contact_row("R6.4.1", ケース番号=case.code),
                contact_row(
                    "R6.5.2", ケース番号="A-1", 相談方法="家庭訪問", **{"新規・継続": "継続"}
                ),
                contact_row("R6.5.3", 性別="女", 年代="40代"),  # anonymous
            ]
        ),
    )

    assert case.client is not None and case.contacts.count() == 2
    assert_same(case)
    assert_same_anonymous(Contact.objects.get(case=None))


def test_the_generator_makes_what_the_services_make(world):
    from django.contrib.auth.models import Permission

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from generator import Generator  # type: ignore[import-not-found]  # benchmarks/, above

    generator = Generator(cases=3, contacts=12, seed=3, password="unused")
    generator.case_weights = {world.org: 1}
    generator.residence_weights = {world.tsu: 1}
    generator.towns, generator.mdt = [world.tsu], [world.supervisor]
    generator.workers = {world.org.pk: [world.counsellor, world.colleague]}
    generator.view_case = Permission.objects.get(
        codename="view_case", content_type__app_label="casework"
    )
    generator.year_keys, generator.meetings_by_org = {}, {}
    generator.agenda_share = generator.referral_share = 0
    generator.chunk([4, 3, 5])

    made = list(Case.objects.all())
    assert len(made) == 3 and Contact.objects.count() > 12
    for case in made:
        assert_same(case)
    for contact in Contact.objects.filter(case=None):
        assert_same_anonymous(contact)


def test_last_contact_is_brought_forward_alike_for_a_few_cases_and_for_many(world):
    now = timezone.now()
    opened = [
        writers.NewCase(Case(organisation=world.org), None, [world.counsellor.pk])
        for _ in range(writers.FEW_CASES + 10)
    ]
    cases = writers.bulk_open_cases(opened, user=world.counsellor)
    ahead = cases[0]  # a later contact is already known: it is not moved back
    Case.objects.filter(pk=ahead.pk).update(last_contact_at=now)

    def contacts(days: int) -> list[Contact]:
        return [
            Contact(
                case=case,
                organisation=world.org,
                staff=world.counsellor,
                occurred_at=now - datetime.timedelta(days=days + i % 3),
            )
            for i, case in enumerate(cases)
        ]

    writers.bulk_log_contacts(contacts(5), user=world.counsellor)  # many: one UPDATE a batch
    writers.bulk_log_contacts(contacts(1)[:3])  # a few: one UPDATE each

    for case in Case.objects.filter(pk__in=[c.pk for c in cases]):
        latest = case.contacts.order_by("-occurred_at").first().occurred_at
        assert case.last_contact_at == (now if case.pk == ahead.pk else latest)
