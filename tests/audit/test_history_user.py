"""Change history records who acted, through django-simple-history's request middleware."""

from __future__ import annotations

import pytest

from accounts.roles import Role
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def test_a_change_made_in_a_request_records_the_acting_user(client):
    user = make_user(Role.COUNSELLOR)
    client.force_login(user)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a much longer passphrase 42",
            "new_password2": "a much longer passphrase 42",
        },
    )
    assert response.status_code == 302
    latest = user.history.order_by("-history_date").first()
    assert latest.history_user == user
