"""The demo casework seed: two fiscal years of synthetic activity, encrypted and idempotent.

Seeding takes a few seconds, so the module seeds once inside a transaction of its own that
is rolled back at the end; each test runs in a savepoint within it, as usual.
"""

from __future__ import annotations

import datetime
import io
import random
import re
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Q
from django.test.utils import override_settings
from django.utils import timezone

from accounts.models import Organisation, User
from accounts.roles import Role
from casework.models import Case, Channel, Client, Consulter, Contact, DataKey, Milestone
from casework.periods import AgeBand, age_band, fiscal_year, fiscal_year_bounds
from casework.selectors import dashboard
from demo import casework as demo
from demo.casework import tables
from demo.context import SeedContext
from demo.prefecture import CENTRE_NAME, DEMO_USERS
from tests.factories import make_organisation, make_user

pytestmark = pytest.mark.django_db

ENCRYPTED_TABLES = [
    "casework_client",
    "casework_historicalclient",
    "casework_case",
    "casework_historicalcase",
    "casework_contact",
    "casework_historicalcontact",
    "casework_milestone",
    "casework_historicalmilestone",
]


def demo_context(seed: int = 2024) -> SeedContext:
    """What seed_demo hands its app hooks, rebuilt from the database."""
    organisations = {"centre": Organisation.objects.get(name=CENTRE_NAME)}
    for org in Organisation.objects.filter(kind=Organisation.Kind.MUNICIPALITY):
        organisations[org.local_government_code] = org
    usernames = [username for username, *_ in DEMO_USERS]
    return SeedContext(
        rng=random.Random(seed),
        today=timezone.localdate(),
        organisations=organisations,
        users={u.username: u for u in User.objects.filter(username__in=usernames)},
    )


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The demo prefecture with its casework, whether or not seed_demo runs the hook yet.

    Yields the counts reported (by seed_demo's output, or by the direct call)."""
    # The production password hasher for eight demo users is tested elsewhere; here it
    # would only cost time.
    fast_hashing = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    )
    with django_db_blocker.unblock(), fast_hashing:
        outer = transaction.atomic()
        outer.__enter__()
        try:
            out = io.StringIO()
            call_command("seed_demo", stdout=out)
            context = demo_context()
            demo.seed(context)  # does nothing when seed_demo has already run the hook
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    reported = re.findall(r"^\s+(\w+): (\d+)$", out.getvalue(), re.MULTILINE)
    yield {**{name: int(n) for name, n in reported}, **context.counts}
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


def seeded_rows(model):
    """The rows the demo seed made (by their first history row), so that other apps'
    seed hooks, run by the same seed_demo, cannot upset these checks."""
    made = model.history.filter(history_type="+", history_change_reason=tables.HISTORY_REASON)
    return model.objects.filter(pk__in=made.values("id"))


def local_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


def raw_text(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
        return "\n".join(repr(row) for row in cursor.fetchall())


def test_counts_are_reported(seeded):
    assert 300 <= seeded["cases"] <= 360
    assert 2700 <= seeded["contacts"] <= 3300
    assert 0.12 <= seeded["anonymous_contacts"] / seeded["contacts"] <= 0.18
    assert 40 <= seeded["milestones"] <= 80
    assert seeded["clients"] < seeded["cases"]  # some families consult without the person


def test_about_250_cases_at_the_centre_and_20_at_each_municipal_window(seeded):
    centre = Organisation.objects.get(name=CENTRE_NAME)
    cases = seeded_rows(Case)
    assert cases.filter(organisation=centre).count() == tables.CENTRE_CASES
    by_window = Counter(
        cases.exclude(organisation=centre).values_list(
            "organisation__local_government_code", flat=True
        )
    )
    assert by_window == dict.fromkeys(tables.MUNICIPAL_WINDOWS, tables.MUNICIPAL_CASES)


def test_contacts_span_the_previous_and_current_fiscal_year_and_none_is_in_the_future(seeded):
    this_year = fiscal_year(timezone.localdate())
    for year in (this_year - 1, this_year):
        first, last = fiscal_year_bounds(year)
        in_year = Contact.objects.filter(
            occurred_at__gte=local_midnight(first),
            occurred_at__lt=local_midnight(last + datetime.timedelta(days=1)),
        )
        assert in_year.filter(case__isnull=False).exists(), year
    last_year = fiscal_year_bounds(this_year - 1)
    anonymous_last_year = Contact.objects.filter(
        case__isnull=True,
        occurred_at__gte=local_midnight(last_year[0]),
        occurred_at__lt=local_midnight(last_year[1] + datetime.timedelta(days=1)),
    )
    assert anonymous_last_year.exists()
    earliest = local_midnight(fiscal_year_bounds(this_year - 1)[0])
    assert not Contact.objects.filter(occurred_at__lt=earliest).exists()
    assert not Contact.objects.filter(occurred_at__gt=timezone.now()).exists()
    assert not Contact.objects.filter(created_at__gt=timezone.now()).exists()


def test_a_run_early_on_the_first_day_of_a_fiscal_year_puts_nothing_after_now(seeded, monkeypatch):
    """Contacts are drawn in office hours; a run before the office opens must still put
    none of them in the future, and the new fiscal year must still have its first ones."""
    april_first = fiscal_year_bounds(fiscal_year(timezone.localdate()))[0]
    early = local_midnight(april_first) + datetime.timedelta(hours=7, minutes=30)
    monkeypatch.setattr(timezone, "now", lambda: early)
    centre = make_organisation(name="デモ検証センター")
    staff = [
        make_user(role, organisation=centre) for role in (Role.COUNSELLOR, Role.OUTREACH_WORKER)
    ]
    context = demo_context()
    context.today = april_first
    context.organisations["centre"] = centre
    context.users = dict(zip(("counsellor", "outreach"), staff, strict=True))
    demo.seed(context)

    made = Contact.objects.filter(staff__in=staff)
    assert made.count() == context.counts["contacts"]
    assert not made.filter(Q(occurred_at__gt=early) | Q(created_at__gt=early)).exists()
    assert made.filter(occurred_at__gte=local_midnight(april_first)).exists()
    assert made.filter(occurred_at__lt=local_midnight(april_first)).exists()
    assert not Milestone.objects.filter(recorded_by__in=staff, achieved_on__gt=april_first)


def test_channel_and_consulter_mix_looks_like_a_real_centre(seeded):
    channels = Counter(Contact.objects.values_list("channel", flat=True))
    assert [c for c, _ in channels.most_common()] == [
        Channel.PHONE,
        Channel.CENTRE_VISIT,
        Channel.HOME_VISIT,
        Channel.EMAIL,
        Channel.ONLINE,
        Channel.ACCOMPANIMENT,
    ]
    consulters = Counter(Contact.objects.values_list("consulter", flat=True))
    ranked = [c for c, _ in consulters.most_common()]
    assert ranked[:3] == [Consulter.PARENT, Consulter.SELF, Consulter.SIBLING]
    assert (
        consulters[Consulter.SIBLING] > consulters[Consulter.AGENCY] > consulters[Consulter.OTHER]
    )
    assert consulters[Consulter.AGENCY] > consulters[Consulter.OTHER_FAMILY]
    minutes = Contact.objects.aggregate(low=Min("minutes"), high=Max("minutes"))
    assert minutes == {"low": 5, "high": 90}


def test_each_case_opens_with_one_first_contact_and_knows_its_last_contact(seeded):
    cases = seeded_rows(Case).annotate(
        earliest=Min("contacts__occurred_at"),
        latest=Max("contacts__occurred_at"),
        first_at=Min("contacts__occurred_at", filter=Q(contacts__kind=Contact.Kind.FIRST)),
        firsts=Count("contacts", filter=Q(contacts__kind=Contact.Kind.FIRST)),
    )
    for case in cases:
        assert case.firsts == 1, case.code
        assert case.first_at == case.earliest, case.code
        assert case.last_contact_at == case.latest, case.code
        assert timezone.localtime(case.earliest).date() == case.opened_on, case.code


def test_contacts_snapshot_the_person_and_anonymous_ones_carry_their_own(seeded):
    for contact in Contact.objects.filter(case__client__isnull=False).select_related(
        "case__client"
    )[:300]:
        person = contact.case.client
        day = timezone.localtime(contact.occurred_at).date()
        assert contact.age_band == age_band(person.birth_year, day)
        assert (contact.gender, contact.municipality_id) == (person.gender, person.municipality_id)

    anonymous = Contact.objects.filter(case__isnull=True)
    assert anonymous.exclude(municipality=None).exists()
    assert anonymous.exclude(age_band=AgeBand.UNKNOWN).exists()
    assert anonymous.exclude(gender="unknown").exists()
    # Their data key is the organisation's key for the fiscal year of the contact.
    for contact in anonymous.select_related("data_key")[:200]:
        key = contact.data_key
        assert key.organisation_id == contact.organisation_id
        assert key.fiscal_year == fiscal_year(timezone.localtime(contact.occurred_at).date())


def test_every_case_and_client_has_a_key_of_its_own(seeded):
    case_keys = set(Case.objects.values_list("data_key_id", flat=True))
    client_keys = set(Client.objects.values_list("data_key_id", flat=True))
    assert len(case_keys) == Case.objects.count()
    assert len(client_keys) == Client.objects.count()
    assert not case_keys & client_keys
    assert not DataKey.objects.filter(pk__in=case_keys | client_keys, organisation__isnull=False)
    assert not Contact.objects.filter(case__isnull=False).exclude(data_key=F("case__data_key"))
    assert not Milestone.objects.exclude(data_key=F("case__data_key")).exists()


def test_people_are_obviously_fictional(seeded):
    today = timezone.localdate()
    clients = list(Client.objects.all())
    for person in clients:
        assert person.name.startswith("デモ ") and person.name_kana.startswith("デモ ")
        assert person.phone is None or person.phone.startswith("000-0000-")
        assert person.birth_year == person.birth_date.year
        age = (today - person.birth_date).days // 365.25
        assert 15 <= age <= 65, person.code
    assert any(person.household_8050 for person in clients)
    assert len({person.municipality_id for person in clients}) > 10


def test_cases_have_mixed_states_and_flags(seeded):
    assert set(Case.objects.values_list("status", flat=True)) == set(Case.Status.values)
    closed = Case.objects.filter(status=Case.Status.CLOSED)
    assert not closed.filter(Q(closed_on=None) | Q(closure_reason=""))
    assert not closed.filter(closed_on__lt=F("opened_on"))
    assert not Case.objects.exclude(status=Case.Status.CLOSED).exclude(closure_reason="")
    assert Case.objects.filter(restricted=True).count() >= 3
    assert Case.objects.filter(mdt_supported=True).exists()
    assert Case.objects.filter(client=None).exists()
    assert len(set(Case.objects.values_list("withdrawal_band", flat=True))) >= 6
    assert Milestone.objects.values("kind").distinct().count() >= 6
    assert not Milestone.objects.filter(achieved_on__gt=timezone.localdate())


def test_lead_workers_belong_to_the_case_organisation(seeded):
    centre = Organisation.objects.get(name=CENTRE_NAME)
    rows = Case.lead_workers.through.objects.select_related("case", "user")
    assert rows.exists()
    for row in rows:
        assert row.user.organisation_id == row.case.organisation_id
    unled_centre_cases = Case.objects.filter(organisation=centre, lead_workers=None)
    assert not unled_centre_cases.exists()
    liaison = User.objects.get(username="liaison")
    assert Case.objects.filter(lead_workers=liaison).exists()
    # Centre contacts are logged by centre staff.
    centre_contacts = Contact.objects.filter(organisation=centre)
    assert not centre_contacts.exclude(staff__organisation=centre).exists()


def test_identities_and_notes_are_ciphertext_at_rest_and_plain_through_the_orm(seeded):
    names = [person.name for person in Client.objects.all()]
    kana = {person.name_kana for person in Client.objects.all()}
    contact = Contact.objects.exclude(follow_up=None).first()
    assert contact.summary.startswith("【デモ】") and contact.follow_up.startswith("【デモ】")
    assert Milestone.objects.first().note.startswith("【デモ】")
    for table in ENCRYPTED_TABLES:
        raw = raw_text(table)
        assert "'e1." in raw, table  # the check below reads real ciphertext
        assert "【デモ】" not in raw, table
        assert "000-0000" not in raw, table
        assert not [name for name in [*names, *kana] if name in raw], table


def test_every_row_has_its_history(seeded):
    for model in (Client, Case, Contact, Milestone):
        created = model.history.filter(history_type="+")
        assert not model.objects.exclude(pk__in=created.values("id")).exists(), model.__name__
        assert seeded_rows(model).exists(), model.__name__
    # The history of a contact names who logged it and decrypts like the row itself.
    demo_history = Contact.history.filter(history_change_reason=tables.HISTORY_REASON)
    assert not demo_history.exclude(history_user_id=F("staff_id")).exists()
    historical = Contact.history.exclude(follow_up=None).first()
    assert historical.summary.startswith("【デモ】") and historical.follow_up.startswith("【デモ】")
    lead_history = Case.history.model.lead_workers.model.objects
    leads = Case.lead_workers.through.objects.filter(case__in=seeded_rows(Case))
    assert lead_history.filter(case__in=seeded_rows(Case)).count() == leads.count()


def test_demo_staff_find_follow_ups_and_cases_on_their_dashboards(seeded):
    today = timezone.localdate()
    week = today + datetime.timedelta(days=7)
    for username in ("counsellor", "outreach"):
        board = dashboard(User.objects.get(username=username))
        due = [c.follow_up_due for c in board.follow_ups_due if c.follow_up_due is not None]
        assert any(today <= day <= week for day in due), username
        assert any(day < today for day in due), username
        assert board.my_open_cases and board.recent_contacts, username


def test_seeding_again_adds_nothing(seeded):
    def snapshot() -> dict[str, int]:
        return {
            model.__name__: model.objects.count()
            for model in (Client, Case, Contact, Milestone, DataKey, Case.lead_workers.through)
        } | {"history": Contact.history.count()}

    before = snapshot()
    context = demo_context(seed=7)
    demo.seed(context)
    call_command("seed_demo", stdout=io.StringIO())
    assert snapshot() == before
    assert context.counts == {}


def test_visits_fall_in_working_hours_and_staff_have_ordinary_names(seeded):
    """What a counsellor opening the demo sees first: no visit at midnight, and no
    colleague whose family name is a role (相談員, 監査, 管理者)."""
    from outreach.models import Visit

    hours = {timezone.localtime(v.planned_start).hour for v in Visit.objects.all()}
    assert hours and all(9 <= hour < 17 for hour in hours), sorted(hours)
    roles = ("相談員", "支援員", "医師", "センター長", "監査", "管理者", "県庁", "津市")
    for username, *_rest in DEMO_USERS:
        family = User.objects.get(username=username).display_name.split()[0]
        assert family not in roles, username
