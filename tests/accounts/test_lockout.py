"""Login policy: five failures lock the account, and separately the source; audited;
a supervisor unlocks their own staff, an administrator anyone."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.roles import Role
from audit.models import Action, Event
from tests.factories import PASSWORD, make_organisation, make_user

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


def attempt(client, username, password, ip="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_five_failures_lock_the_account_even_for_the_right_password(client):
    make_user(Role.COUNSELLOR, username="target")
    for _ in range(4):
        assert attempt(client, "target", "wrong").status_code == 200
    assert attempt(client, "target", "wrong").status_code == 429  # the fifth failure locks
    locked = attempt(client, "target", PASSWORD, ip="10.0.0.2")  # from elsewhere, right password
    assert locked.status_code == 429
    assert "ログインが一時的に制限されています" in locked.content.decode()
    assert Event.objects.filter(action=Action.LOCKOUT, object_ref="target").exists()


def test_five_failures_from_one_source_lock_that_source_for_other_accounts(client):
    make_user(Role.COUNSELLOR, username="innocent")
    for n in range(5):
        attempt(client, f"guess{n}", "wrong", ip="10.9.9.9")
    assert attempt(client, "innocent", PASSWORD, ip="10.9.9.9").status_code == 429
    assert attempt(client, "innocent", PASSWORD, ip="10.1.1.1").status_code == 302


def test_a_supervisor_unlocks_their_own_staff_and_the_unlock_is_audited(client):
    org = make_organisation()
    make_user(Role.COUNSELLOR, organisation=org, username="mine")
    supervisor = make_user(Role.SUPERVISOR, organisation=org)
    outsider_supervisor = make_user(Role.SUPERVISOR, organisation=make_organisation())
    for _ in range(5):
        attempt(client, "mine", "wrong")

    client.force_login(outsider_supervisor)
    assert "mine" not in client.get(reverse("accounts:lockouts")).content.decode()

    client.force_login(supervisor)
    page = client.get(reverse("accounts:lockouts")).content.decode()
    assert "mine" in page
    from axes.models import AccessAttempt

    attempt_id = AccessAttempt.objects.get(username="mine").pk
    client.force_login(outsider_supervisor)
    assert client.post(reverse("accounts:unlock"), {"attempt": attempt_id}).status_code == 404
    client.force_login(supervisor)
    assert client.post(reverse("accounts:unlock"), {"attempt": attempt_id}).status_code == 302
    assert Event.objects.filter(action=Action.UNLOCK, object_ref="mine").exists()
    client.logout()
    assert attempt(client, "mine", PASSWORD).status_code == 302
