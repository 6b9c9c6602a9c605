"""Two factors for supervisors, auditors and administrators: without the second factor a
signed-in user of those roles reaches no page; enrolment confirms a real TOTP code for the
key the page shows (as an authenticator app would read it); recovery codes work once;
wrong codes change nothing and are audited. Replacing a factor: tests/security/
test_r2_second_factor.py."""

from __future__ import annotations

import base64
import re
import time

import pytest
from django.urls import reverse
from django.utils.http import urlencode
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


def _next_code(device: TOTPDevice) -> str:
    """The code of the time step after the last one the device accepted (a code is never
    accepted twice), whatever the clock did in between; a fixed "one step ahead" fails
    when the device was synchronised one step back (tests/security/test_r2_admin.py)."""
    device.refresh_from_db()
    now = (int(time.time()) - device.t0) // device.step
    return _code(device, max(0, device.last_t + 1 - now))


def _key_on_page(html: str) -> bytes:
    """The key the set-up page shows, read as an authenticator app reads it."""
    text = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    return base64.b32decode(text + "=" * (-len(text) % 8))


def _app_code(key: bytes) -> str:
    """The code an authenticator app holding `key` shows now (django-otp's defaults)."""
    return f"{totp(key):06d}"


@pytest.fixture
def supervisor(world):
    return world.supervisor


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
    key = _key_on_page(page)
    assert not TOTPDevice.objects.filter(user=supervisor).exists()  # showing it saves nothing

    wrong = client.post(
        reverse("accounts:two_factor_setup"),
        {"token": "000000" if _app_code(key) != "000000" else "111111"},
    )
    assert "確認コードが正しくありません" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=supervisor).exists()
    assert client.get(reverse("home"))["Location"] == reverse("accounts:two_factor_setup")

    done = client.post(reverse("accounts:two_factor_setup"), {"token": _app_code(key)})
    codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", done.content.decode())
    assert len(codes) == 10
    assert TOTPDevice.objects.get(user=supervisor, confirmed=True).bin_key == key
    assert client.get(reverse("home")).status_code == 200  # verified in this session
    assert Event.objects.filter(action=Action.FACTOR_ENROL, object_ref=supervisor.username).exists()

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
    response = client.post(reverse("accounts:two_factor_verify"), {"token": _next_code(device)})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_verification_does_not_redirect_off_site(client, supervisor):
    _login(client, supervisor)
    key = _key_on_page(client.get(reverse("accounts:two_factor_setup")).content.decode())
    client.post(reverse("accounts:two_factor_setup"), {"token": _app_code(key)})
    client.post(reverse("accounts:logout"))
    _login(client, supervisor)
    device = TOTPDevice.objects.get(user=supervisor, confirmed=True)
    response = client.post(
        reverse("accounts:two_factor_verify"),
        {"token": _next_code(device), "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"


def _enrol(client, user) -> bytes:
    """Sign in and enrol through the set-up page; returns the app's key. Signs out."""
    _login(client, user)
    key = _key_on_page(client.get(reverse("accounts:two_factor_setup")).content.decode())
    done = client.post(reverse("accounts:two_factor_setup"), {"token": _app_code(key)})
    assert done.status_code == 200
    client.post(reverse("accounts:logout"))
    return key


def test_with_a_factor_a_password_only_session_reaches_only_verification_and_sign_out(
    client, supervisor
):
    _enrol(client, supervisor)
    _login(client, supervisor)
    verify = reverse("accounts:two_factor_verify")
    for name in [
        *PAGES,
        "accounts:two_factor_setup",
        "accounts:reauthenticate",
        "accounts:password_change",
        "api_tokens:list",
    ]:
        response = client.get(reverse(name))
        assert response.status_code == 302, name
        assert response["Location"] == verify, name
    assert client.get(verify).status_code == 200
    assert client.post(reverse("accounts:logout"))["Location"] == reverse("accounts:login")


def test_an_optional_factor_is_replaced_only_after_a_step_up_that_includes_it(client, db):
    """A counsellor who enrolled voluntarily is not asked for the code at sign-in; to
    replace the factor they pass it on the step-up page first."""
    counsellor = make_user(Role.COUNSELLOR, organisation=make_organisation())
    key = _enrol(client, counsellor)
    before = list(TOTPDevice.objects.filter(user=counsellor).values_list("pk", "key"))
    _login(client, counsellor)
    assert client.get(reverse("home")).status_code == 200  # not required for this role

    setup = reverse("accounts:two_factor_setup")
    step_up = reverse("accounts:reauthenticate") + "?" + urlencode({"next": setup})
    assert client.get(setup)["Location"] == step_up
    assert client.post(setup, {"token": _app_code(bytes(20))})["Location"] == step_up
    assert list(TOTPDevice.objects.filter(user=counsellor).values_list("pk", "key")) == before

    device = TOTPDevice.objects.get(user=counsellor)
    response = client.post(
        reverse("accounts:reauthenticate"),
        {"password": PASSWORD, "token": _next_code(device), "next": setup},
    )
    assert response["Location"] == setup
    new_key = _key_on_page(client.get(setup).content.decode())
    assert new_key != key
    client.post(setup, {"token": _app_code(new_key)})
    assert TOTPDevice.objects.get(user=counsellor).bin_key == new_key
    assert Event.objects.filter(
        action=Action.FACTOR_REPLACE, object_ref=counsellor.username
    ).exists()


def test_the_recovery_codes_are_shown_even_when_the_mail_server_is_down(
    client, supervisor, settings
):
    import socket

    with socket.socket() as probe:  # a port nothing listens on: the connection is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    supervisor.email = "kantoku@example.jp"
    supervisor.save(update_fields=["email"])
    _login(client, supervisor)
    key = _key_on_page(client.get(reverse("accounts:two_factor_setup")).content.decode())
    done = client.post(reverse("accounts:two_factor_setup"), {"token": _app_code(key)})
    assert len(re.findall(r"<li><code>([a-z0-9]+)</code></li>", done.content.decode())) == 10
    assert Event.objects.filter(action=Action.FACTOR_ENROL).count() == 1
    assert not Event.objects.filter(action=Action.NOTICE).exists()


def _dark_modules(svg: str, scale: int = 4) -> set[tuple[int, int]]:
    """The dark modules an inline SVG QR code draws: its path is horizontal runs
    ("M x y h n m dx dy h n ..."), in module units (the path is scaled)."""
    path = re.search(r'<path[^>]*stroke="#000"[^>]* d="([^"]+)"', svg).group(1)
    x = y = 0.0
    dark = set()
    for command, numbers in re.findall(r"([MmHhVv])([-\d. ]+)", path.replace("m", " m")):
        values = [float(n) for n in numbers.split()]
        if command == "M":
            x, y = values
        elif command == "m":
            x, y = x + values[0], y + values[1]
        elif command == "h":
            for i in range(int(values[0])):
                dark.add((int(y - 0.5), int(x) + i))
            x += values[0]
    return dark


def test_the_set_up_page_draws_the_key_as_a_qr_code_on_the_server(client, supervisor):
    """The authenticator reads the set-up address from a QR code drawn inline (no
    script, no image request); the code holds the same key the page writes out."""
    import segno

    _login(client, supervisor)
    html = client.get(reverse("accounts:two_factor_setup")).content.decode()
    svg = re.search(r'<svg[^>]*class="qr".*?</svg>', html, re.S).group(0)
    assert "<title>" in svg and "<image" not in svg and "style=" not in svg
    from accounts.two_factor import DEVICE_NAME

    # The device an authenticator would set up from the key written on the page.
    device = TOTPDevice(user=supervisor, name=DEVICE_NAME, key=_key_on_page(html).hex())
    expected = {
        (row, col)
        for row, line in enumerate(segno.make(device.config_url, error="m").matrix)
        for col, module in enumerate(line)
        if module
    }
    assert _dark_modules(svg) == {(r + 4, c + 4) for r, c in expected}  # a 4-module border
