"""Two organisations with staff of every API-using role, and tokens for them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.test import Client

from accounts.models import Organisation
from accounts.roles import Role
from api.models import ApiToken
from tests.factories import make_organisation, make_user


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
def api(db):
    centre = make_organisation(name="センター")
    town = make_organisation(Organisation.Kind.MUNICIPALITY, name="試験町")
    people = {
        "counsellor": make_user(Role.COUNSELLOR, organisation=centre),
        "supervisor": make_user(Role.SUPERVISOR, organisation=centre),
        "statistics": make_user(Role.STATISTICS_VIEWER, organisation=centre),
        "auditor": make_user(Role.AUDITOR, organisation=centre),
        "liaison": make_user(Role.MUNICIPAL_LIAISON, organisation=town),
        "town_statistics": make_user(Role.STATISTICS_VIEWER, organisation=town),
    }
    raws = {}
    for key, user in people.items():
        if user.has_perm("api.add_apitoken"):
            raws[key] = ApiToken.issue(user, name="test", days=30)[1]
    return SimpleNamespace(
        centre=centre,
        town=town,
        raw=raws,
        as_=lambda key: TokenClient(raws[key]),
        **people,
    )
