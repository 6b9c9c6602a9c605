"""Programmes and their sessions: only the organiser's own programmes take sessions."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from outreach import services
from outreach.models import Programme

pytestmark = pytest.mark.django_db


def test_a_session_in_another_organisations_programme_is_refused(team):
    theirs = Programme.objects.create(
        kind=Programme.Kind.FAMILY_CLASS, name="他組織の教室", organiser=team.world.other
    )
    with pytest.raises(ValidationError, match="他の組織"):
        services.add_session(team.supervisor, theirs, held_on=datetime.date(2024, 6, 1))
    assert theirs.sessions.count() == 0
