"""The own password change: Django's form (old password, password rules), then one audit
event, the user's API tokens revoked, the other sessions ended, this one kept, and an
e-mail to the user. The attack-side checks are in tests/security/test_r2_second_factor.py."""

from __future__ import annotations

import socket

import pytest
from django.test import Client
from django.urls import reverse

from api.models import ApiToken
from audit.models import Action, Event
from tests.factories import PASSWORD

NEW_PASSWORD = "another long passphrase 19"


@pytest.fixture
def counsellor(world):
    world.counsellor.email = "h@example.jp"
    world.counsellor.save(update_fields=["email"])
    return world.counsellor


def _change(client: Client, old: str, new: str = NEW_PASSWORD):
    return client.post(
        reverse("accounts:password_change"),
        {"old_password": old, "new_password1": new, "new_password2": new},
    )


def test_a_refused_change_changes_nothing_and_says_why(client, counsellor, mailoutbox):
    client.force_login(counsellor)
    ApiToken.issue(counsellor, name="連携", days=30)
    response = _change(client, "not the password")
    assert response.status_code == 200
    assert "元のパスワードが間違っています" in response.content.decode()  # Django's message
    weak = _change(client, PASSWORD, new="12345678")
    assert weak.status_code == 200
    counsellor.refresh_from_db()
    assert counsellor.check_password(PASSWORD)
    assert not Event.objects.filter(action=Action.PASSWORD_CHANGE).exists()
    assert ApiToken.objects.usable().filter(user=counsellor).count() == 1
    assert mailoutbox == []


def test_the_change_stands_when_the_mail_server_is_down(client, counsellor, settings):
    with socket.socket() as probe:  # a port nothing listens on: the connection is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    client.force_login(counsellor)
    ApiToken.issue(counsellor, name="連携", days=30)

    response = _change(client, PASSWORD)
    assert response["Location"] == reverse("accounts:password_change_done")
    counsellor.refresh_from_db()
    assert counsellor.check_password(NEW_PASSWORD)
    assert Event.objects.filter(action=Action.PASSWORD_CHANGE).count() == 1
    assert not ApiToken.objects.usable().filter(user=counsellor).exists()
    assert not Event.objects.filter(action=Action.NOTICE).exists()  # nothing was sent
    assert client.get(reverse("home")).status_code == 200
