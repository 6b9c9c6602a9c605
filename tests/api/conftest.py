"""The world's staff of every API-using role, and tokens for them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.test import Client

from accounts.roles import Role
from api.models import ApiToken


class TokenClient:
    """A test client that sends one user's bearer token and JSON, and no cookie."""

    def __init__(self, raw: str) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {raw}"}

    def get(self, path: str, data: dict | None = None):
        return self.client.get(path, data or {}, headers=self.headers)

    def post(self, path: str, data: dict | None = None):
        return self.client.post(
            path, data or {}, content_type="application/json", headers=self.headers
        )


@pytest.fixture
def api(world):
    """The world's API users (and a statistics viewer of the town), with a token each."""
    centre, town = world.centre, world.town
    people = {
        "counsellor": world.counsellor,
        "supervisor": world.supervisor,
        "statistics": world.statistics,
        "auditor": world.auditor,
        "liaison": world.liaison,
        "town_statistics": world.user(Role.STATISTICS_VIEWER, organisation=town),
    }
    raws = {}
    for key, user in people.items():
        if user.has_perm("api.add_apitoken"):
            raws[key] = ApiToken.issue(user, name="test", days=30)[1]
    return SimpleNamespace(
        world=world,
        centre=centre,
        town=town,
        raw=raws,
        as_=lambda key: TokenClient(raws[key]),
        **people,
    )
