"""Two factors for supervisors, auditors and administrators: without the second factor a
signed-in user of those roles reaches no page; enrolment confirms a real TOTP code;
recovery codes work once; wrong codes change nothing and are audited."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django_otp import devices_for_user
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.roles import Role
from audit.models import Action, Event
from tests.factories import PASSWORD, make_organisation, make_user

pytestmark = pytest.mark.two_factor

PAGES = ["home", "indicators:plans", "casework:case_list", "accounts:lockouts"]


def _login(client, user):
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    return response


def _code(device: TOTPDevice, offset: int = 0) -> str:
    """The code an authenticator app shows now (offset: time steps ahead)."""
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset)
    return f"{code:06d}"


@pytest.fixture
def supervisor(db):
    return make_user(Role.SUPERVISOR, organisation=make_organisation(), username="kantoku")


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.AUDITOR, Role.SYSTEM_ADMIN])
def test_privileged_roles_reach_no_page_before_enrolling(client, db, role):
    user = make_user(role, organisation=make_organisation())
    _login(client, user)
    for name in [*PAGES, "admin:index"]:
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:two_factor_setup")
    assert client.get(reverse("accounts:two_factor_setup")).status_code == 200


def test_a_counsellor_is_not_asked_but_may_enrol(client, db):
    counsellor = make_user(Role.COUNSELLOR, organisation=make_organisation())
    _login(client, counsellor)
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("accounts:two_factor_setup")).status_code == 200


def test_enrol_with_a_real_code_then_sign_in_again_with_a_code_or_a_recovery_code(
    client, supervisor
):
    _login(client, supervisor)
    page = client.get(reverse("accounts:two_factor_setup")).content.decode()
    assert re.search(r'data-testid="totp-secret">[A-Z2-7 ]{20,}<', page)
    device = TOTPDevice.objects.get(user=supervisor, confirmed=False)

    wrong = client.post(
        reverse("accounts:two_factor_setup"),
        {"token": "000000" if _code(device) != "000000" else "111111"},
    )
    assert "確認コードが正しくありません" in wrong.content.decode()
    assert client.get(reverse("home"))["Location"] == reverse("accounts:two_factor_setup")

    # A wrong code throttles the device (django-otp: 1 s, doubling); a person retrying
    # naturally waits that long.
    device.refresh_from_db()
    device.throttle_reset()
    done = client.post(reverse("accounts:two_factor_setup"), {"token": _code(device)})
    codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", done.content.decode())
    assert len(codes) == 10
    assert client.get(reverse("home")).status_code == 200  # verified in this session
    assert Event.objects.filter(action=Action.UPDATE, detail__two_factor="enrolled").exists()

    # A new session: the password alone is not enough.
    client.post(reverse("accounts:logout"))
    _login(client, supervisor)
    assert client.get(reverse("home"))["Location"] == reverse("accounts:two_factor_verify")
    bad = client.post(reverse("accounts:two_factor_verify"), {"token": "12345x"})
    for stale in devices_for_user(supervisor):
        stale.throttle_reset()
    assert "コードが正しくありません" in bad.content.decode()
    assert Event.objects.filter(
        action=Action.LOGIN_FAILED, detail__two_factor="wrong_code"
    ).exists()
    assert client.get(reverse("home")).status_code == 302

    ok = client.post(reverse("accounts:two_factor_verify"), {"token": codes[0]})
    assert ok.status_code == 302
    assert client.get(reverse("home")).status_code == 200

    # The recovery code is spent.
    client.post(reverse("accounts:logout"))
    _login(client, supervisor)
    client.post(reverse("accounts:two_factor_verify"), {"token": codes[0]})
    assert client.get(reverse("home")).status_code == 302

    # A fresh TOTP code from the app works (the next time step: a code is not reused).
    device = TOTPDevice.objects.get(user=supervisor, confirmed=True)
    device.throttle_reset()
    # Codes are time-based; drift=1 is the next step, which the device still accepts.
    response = client.post(reverse("accounts:two_factor_verify"), {"token": _code(device, 1)})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_verification_does_not_redirect_off_site(client, supervisor):
    _login(client, supervisor)
    client.get(reverse("accounts:two_factor_setup"))
    device = TOTPDevice.objects.get(user=supervisor, confirmed=False)
    client.post(reverse("accounts:two_factor_setup"), {"token": _code(device)})
    client.post(reverse("accounts:logout"))
    _login(client, supervisor)
    device.refresh_from_db()
    response = client.post(
        reverse("accounts:two_factor_verify"),
        {"token": _code(device, 1), "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"
