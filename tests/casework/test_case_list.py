"""The case list's order and filters, through the view, on every database."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from casework.models import Case
from tests.factories import make_case, make_client, make_user

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 6, 15)


def listed(client, user, **params) -> list[str]:
    client.force_login(user)
    response = client.get(reverse("casework:case_list"), params)
    assert response.status_code == 200
    return [case.code for case in response.context["page"].object_list]


@pytest.fixture
def cases(world):
    """Four cases of the centre: contacted 1 and 30 days ago, and two never contacted."""
    now = timezone.now()
    made = {}
    for name, days_since_contact, opened_days_ago, town in (
        ("recent", 1, 200, "town"),
        ("quiet", 30, 300, "village"),
        ("never_new", None, 5, "town"),
        ("never_old", None, 400, None),
    ):
        client = make_client(world.centre, municipality=getattr(world, town) if town else None)
        case = make_case(
            world.centre,
            client=client,
            opened_on=TODAY - datetime.timedelta(days=opened_days_ago),
            status=Case.Status.ACTIVE,
        )
        last = (
            None
            if days_since_contact is None
            else now - datetime.timedelta(days=days_since_contact)
        )
        Case.objects.filter(pk=case.pk).update(last_contact_at=last)
        made[name] = case.code
    return made


def test_most_recently_contacted_first_and_never_contacted_last(client, world, cases):
    # Never-contacted cases come last on every database (by opening date among them); in a
    # descending order on the column itself PostgreSQL would put them first, SQLite last.
    assert listed(client, world.counsellor) == [
        cases["recent"],
        cases["quiet"],
        cases["never_new"],
        cases["never_old"],
    ]


def test_no_contact_for_n_days_lists_the_silent_and_the_never_contacted(client, world, cases):
    silent = listed(client, world.counsellor, no_contact_days="7")
    assert silent == [cases["quiet"], cases["never_new"], cases["never_old"]]
    assert listed(client, world.counsellor, no_contact_days="60") == [
        cases["never_new"],
        cases["never_old"],
    ]


def test_the_worker_filter_lists_the_cases_that_worker_leads(client, world, cases):
    Case.objects.get(code=cases["quiet"]).lead_workers.add(world.colleague)
    Case.objects.get(code=cases["never_old"]).lead_workers.add(world.colleague)
    Case.objects.get(code=cases["recent"]).lead_workers.add(world.counsellor)
    chosen = listed(client, world.counsellor, worker=str(world.colleague.pk))
    assert chosen == [cases["quiet"], cases["never_old"]]


def test_the_worker_choices_are_the_active_staff_of_the_own_organisation(client, world, cases):
    gone = make_user(Role.COUNSELLOR, organisation=world.centre, username="gone", is_active=False)
    client.force_login(world.counsellor)
    page = client.get(reverse("casework:case_list")).content.decode()
    assert f'<option value="{world.colleague.pk}">colleague</option>' in page
    assert f'value="{gone.pk}"' not in page
    assert f'value="{world.other_counsellor.pk}"' not in page
    # Only staff whose role works on cases: not the auditor, administrator or statistics viewer.
    for outsider in (world.auditor, world.admin, world.statistics):
        assert f'value="{outsider.pk}"' not in page
    # Naming a worker who is not among the choices filters nothing and says so.
    response = client.get(reverse("casework:case_list"), {"worker": str(world.other_counsellor.pk)})
    assert response.context["filter"].errors["worker"]
    assert '<ul class="errorlist"' in response.content.decode()
    assert len(response.context["page"].object_list) == 4


def test_the_chosen_worker_stays_selected(client, world, cases):
    client.force_login(world.counsellor)
    page = client.get(reverse("casework:case_list"), {"worker": str(world.colleague.pk)})
    assert (
        f'<option value="{world.colleague.pk}" selected>colleague</option>' in page.content.decode()
    )


def test_residence_filters_by_town_and_by_region(client, world, cases):
    north_town = str(world.town.pk)
    assert listed(client, world.counsellor, municipality=north_town) == [
        cases["recent"],
        cases["never_new"],
    ]
    assert listed(client, world.counsellor, region=str(world.south.pk)) == [cases["quiet"]]
    assert listed(client, world.counsellor, status="closed", municipality=north_town) == []
