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

    lock = {"kind": "username", "value": "mine"}
    client.force_login(outsider_supervisor)
    assert client.post(reverse("accounts:unlock"), lock).status_code == 404
    client.force_login(supervisor)
    assert client.post(reverse("accounts:unlock"), lock).status_code == 302
    assert Event.objects.filter(action=Action.UNLOCK, object_ref="mine").exists()
    client.logout()
    assert attempt(client, "mine", PASSWORD).status_code == 302


def test_failures_spread_over_sources_and_names_are_listed_where_they_lock(client):
    # axes locks on the sum of a name's (or an address's) recent rows; the screen lists
    # the lock even when no single row reached the limit.
    org = make_organisation()
    make_user(Role.COUNSELLOR, organisation=org, username="spread")
    admin = make_user(Role.SYSTEM_ADMIN, organisation=make_organisation())
    for n in range(5):
        attempt(client, "spread", "wrong", ip=f"10.2.0.{n}")
    for n in range(5):
        attempt(client, f"nobody{n}", "wrong", ip="10.3.0.1")
    client.force_login(admin)
    page = client.get(reverse("accounts:lockouts"))
    listed = {(lock.kind, lock.value) for lock in page.context["lockouts"]}
    assert listed == {("username", "spread"), ("address", "10.3.0.1")}
    assert "nobody" not in page.content.decode()


def test_a_supervisor_lifts_a_source_only_when_every_failure_named_their_staff(client):
    org = make_organisation()
    make_user(Role.COUNSELLOR, organisation=org, username="ours1")
    make_user(Role.COUNSELLOR, organisation=org, username="ours2")
    make_user(Role.COUNSELLOR, organisation=make_organisation(), username="theirs")
    supervisor = make_user(Role.SUPERVISOR, organisation=org)
    for name in ("ours1", "ours2", "ours1", "ours2", "ours1"):
        attempt(client, name, "wrong", ip="10.4.0.1")  # the office's shared address
    for name in ("ours1", "theirs", "ours1", "theirs", "ours1"):
        attempt(client, name, "wrong", ip="10.4.0.2")
    client.force_login(supervisor)
    page = client.get(reverse("accounts:lockouts"))
    listed = {(lock.kind, lock.value) for lock in page.context["lockouts"]}
    assert ("address", "10.4.0.1") in listed and ("address", "10.4.0.2") not in listed
    unlock = reverse("accounts:unlock")
    assert client.post(unlock, {"kind": "address", "value": "10.4.0.2"}).status_code == 404
    assert client.post(unlock, {"kind": "address", "value": "10.4.0.1"}).status_code == 302
    assert client.post(unlock, {"kind": "address", "value": "not an address"}).status_code == 404
    assert client.post(unlock, {"kind": "other", "value": "10.4.0.2"}).status_code == 404
    client.logout()
    assert attempt(client, "ours2", PASSWORD, ip="10.4.0.1").status_code == 302
