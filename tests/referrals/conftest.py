"""The referrals tests' setting on the shared world (helpers: tests/referrals/helpers.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from casework import services as casework
from tests.referrals.helpers import CONTACT, NAME, SUMMARY


@pytest.fixture
def setting(world):
    """The centre's counsellor with a case (a contact logged) to refer to the town, whose
    liaison receives it."""
    centre, town, counsellor, liaison = world.centre, world.town, world.counsellor, world.liaison
    case = casework.open_case(
        counsellor, identity={"name": NAME, "phone": "000-1"}, case_fields={"summary": SUMMARY}
    )
    casework.log_contact(counsellor, case=case, summary=CONTACT)
    return SimpleNamespace(
        world=world, centre=centre, town=town, counsellor=counsellor, liaison=liaison, case=case
    )
