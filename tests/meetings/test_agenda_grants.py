"""MDT access through the agenda: an attendee reads an agenda case while its review is open,
and closing the review takes back only the grants the agenda gave."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.selectors import visible_cases
from meetings import services
from tests.meetings.helpers import case, meeting

pytestmark = pytest.mark.django_db


def test_an_mdt_member_sees_an_agenda_case_only_until_its_review_closes(client, world):
    subject = case(world, opened=datetime.date(2023, 1, 1))
    assert subject not in visible_cases(world.mdt)
    this = meeting(world, timezone.localdate())
    item = services.add_to_agenda(world.supervisor, this, case=subject)
    mdt = type(world.mdt).objects.get(pk=world.mdt.pk)
    assert subject in visible_cases(mdt)
    client.force_login(mdt)
    assert (
        client.get(reverse("casework:case_detail", kwargs={"code": subject.code})).status_code
        == 200
    )
    services.record_minutes(world.supervisor, item, decisions="方針決定", close_review=True)
    assert subject not in visible_cases(mdt)
    assert (
        client.get(reverse("casework:case_detail", kwargs={"code": subject.code})).status_code
        == 404
    )


def test_closing_a_review_leaves_grants_of_other_origins_alone(world):
    from django.contrib.auth.models import Permission

    from casework.models import CaseUserObjectPermission

    subject = case(world, opened=datetime.date(2023, 1, 1))
    liaison = world.liaison
    CaseUserObjectPermission.objects.create(
        user=liaison,
        content_object=subject,
        permission=Permission.objects.get(codename="view_case", content_type__app_label="casework"),
    )
    item = services.add_to_agenda(
        world.supervisor, meeting(world, timezone.localdate()), case=subject
    )
    services.record_minutes(world.supervisor, item, decisions="終了", close_review=True)
    assert CaseUserObjectPermission.objects.filter(user=liaison, content_object=subject).exists()
    assert not CaseUserObjectPermission.objects.filter(
        user=world.mdt, content_object=subject
    ).exists()
