"""The outreach tests' team on the shared world (helpers: tests/outreach/helpers.py)."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest

from accounts.roles import Role
from casework import services as casework


@pytest.fixture
def team(world):
    """Two outreach workers of the centre (the world's and a second one), its supervisor,
    and a case the first one opened."""
    a, b = world.outreach, world.user(Role.OUTREACH_WORKER, username="outreach2")
    case = casework.open_case(
        a, identity={"name": "訪問 対象"}, case_fields={"opened_on": datetime.date(2024, 4, 1)}
    )
    return SimpleNamespace(
        world=world, centre=world.centre, a=a, b=b, supervisor=world.supervisor, case=case
    )
