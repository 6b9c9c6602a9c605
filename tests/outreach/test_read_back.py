"""Transfer read-back reaches the old organisation's own records only, visits included:
the visit page and the team's week schedule hide what the new organisation did after
the transfer (outside review F1)."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from accounts.roles import Role
from casework import services as casework
from casework.models import Contact, Milestone
from outreach import services
from referrals import services as referrals
from tests.outreach.helpers import NOTE, at

pytestmark = pytest.mark.django_db

NEW_NOTE = "canary-new-organisation-visit 移管先の訪問"


def _done_visit(worker, case, hour, notes):
    visit = services.plan_visit(worker, case, planned_start=at(hour), workers=[worker])
    services.start_visit(worker, visit, now=at(hour))
    return services.complete_visit(worker, visit, outcome="met_person", minutes=30, notes=notes)


def test_after_a_transfer_the_old_organisation_sees_only_its_own_visits(client, team):
    world = team.world
    before = _done_visit(team.a, team.case, 9, NOTE)
    referrals.transfer_case(team.supervisor, team.case, to_organisation=world.town)
    team.case.refresh_from_db()
    town_worker = world.user(Role.OUTREACH_WORKER, organisation=world.town)
    after = _done_visit(town_worker, team.case, 14, NEW_NOTE)
    casework.record_milestone(
        world.user(Role.COUNSELLOR, organisation=world.town),
        team.case,
        kind="ibasho",
        achieved_on=datetime.date(2024, 6, 10),
    )
    schedule = reverse("outreach:schedule") + "?team=1&week=2024-06-10"

    for viewer in (world.counsellor, team.supervisor):
        client.force_login(viewer)
        assert client.get(reverse("outreach:visit_detail", args=[after.pk])).status_code == 404
        page = client.get(reverse("outreach:visit_detail", args=[before.pk]))
        assert page.status_code == 200 and NOTE in page.content.decode()
        page = client.get(schedule).content.decode()
        assert str(before.pk) in page and str(after.pk) not in page
        # The same rule in every scoped read of the case's records.
        contacts = Contact.objects.visible_to(viewer).filter(case=team.case)
        assert {c.organisation_id for c in contacts} == {world.centre.pk}
        assert not Milestone.objects.visible_to(viewer).filter(case=team.case).exists()

    client.force_login(town_worker)
    page = client.get(schedule).content.decode()
    assert str(before.pk) in page and str(after.pk) in page
    assert client.get(reverse("outreach:visit_detail", args=[after.pk])).status_code == 200
