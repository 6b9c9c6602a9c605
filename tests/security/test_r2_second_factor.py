"""Issue 17, finding 1 (and the password-change parts of findings 10 and 11), performed
through HTTP as the outside review did: real sign-in through the login form, real TOTP
codes computed from the key the set-up page shows (as an authenticator app would), real
recovery codes, the real API token check.

The attack: a password-only session of an enrolled supervisor opened the set-up page (it
was reachable before the second factor, and signing in counted as a recent
authentication), enrolled the attacker's authenticator, which deleted the owner's device
and recovery codes, and got a verified session.
"""

from __future__ import annotations

import base64
import re
import time

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import hotp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.roles import Role
from audit.models import Action, Event
from tests.factories import PASSWORD, make_organisation, make_user

pytestmark = [pytest.mark.two_factor, pytest.mark.django_db]

SETUP = reverse("accounts:two_factor_setup")
VERIFY = reverse("accounts:two_factor_verify")
REAUTH = reverse("accounts:reauthenticate")
HOME = reverse("home")
PLANS = "/api/v1/plans/"
INBOX = "/api/v1/referrals/inbox/"
STEP = 30  # seconds per TOTP code (django-otp's default, which the devices here use)


# --- what a person (or an attacker) does with a browser and an authenticator app -------


def _sign_in(client: Client, user, password: str = PASSWORD) -> None:
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": password}
    )
    assert response.status_code == 302, "the password was refused"


def _key_on_page(html: str) -> bytes | None:
    """The TOTP key the set-up page shows, as an authenticator app would read it."""
    found = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', html)
    if found is None:
        return None
    text = found.group(1).replace(" ", "")
    return base64.b32decode(text + "=" * (-len(text) % 8))


def _code(key: bytes, step: int | None = None) -> str:
    """The code an authenticator app holding `key` shows for a time step (now by default)."""
    return f"{hotp(key, int(time.time()) // STEP if step is None else step, digits=6):06d}"


def _unused_code(key: bytes, user) -> str:
    """A code of the owner's app that the server has not seen yet: the server refuses a
    code of a time step it already accepted, and accepts one step either side of now."""
    last = TOTPDevice.objects.get(user=user, confirmed=True).last_t
    now = int(time.time()) // STEP
    if last + 1 > now + 1:  # this window's codes are spent: the app shows the next one
        time.sleep(STEP - time.time() % STEP + 0.2)
        now += 1
    return _code(key, max(now, last + 1))


def _recovery_codes(html: str) -> list[str]:
    return re.findall(r"<li><code>([a-z0-9]+)</code></li>", html)


def _enrol(client: Client) -> tuple[bytes, list[str]]:
    """First enrolment through the set-up page; returns the app's key and recovery codes."""
    key = _key_on_page(client.get(SETUP).content.decode())
    assert key is not None
    done = client.post(SETUP, {"token": _code(key)})
    codes = _recovery_codes(done.content.decode())
    assert len(codes) == 10
    return key, codes


def _factor_rows(user) -> dict:
    """Everything the device tables hold for `user`."""
    return {
        "totp": sorted(
            TOTPDevice.objects.filter(user=user).values_list("pk", "key", "confirmed", "name")
        ),
        "static": sorted(StaticDevice.objects.filter(user=user).values_list("pk", "confirmed")),
        "tokens": sorted(
            StaticToken.objects.filter(device__user=user).values_list("device_id", "token")
        ),
    }


def _token(client: Client) -> str:
    """An API token made on the token page (a recent password is enough for that)."""
    page = client.post(reverse("api_tokens:create"), {"name": "連携", "days": "30"})
    assert page.status_code == 201
    return re.search(r'id="new-token">([^<]+)<', page.content.decode()).group(1)


def _api(raw: str, path: str) -> int:
    return Client().get(path, headers={"Authorization": f"Bearer {raw}"}).status_code


@pytest.fixture
def owner(world):
    """An enrolled supervisor: enrolled through the set-up page, then signed out."""
    user = world.supervisor
    user.email = "kantoku@example.jp"
    user.save(update_fields=["email"])
    browser = Client()
    _sign_in(browser, user)
    user.app_key, user.recovery = _enrol(browser)
    browser.post(reverse("accounts:logout"))
    return user


def _verified_session(owner) -> Client:
    """The owner signs in with the password and a recovery code (keeping the app's codes
    for the steps the test is about)."""
    browser = Client()
    _sign_in(browser, owner)
    assert browser.post(VERIFY, {"token": owner.recovery.pop()}).status_code == 302
    assert browser.get(HOME).status_code == 200
    # django-otp tried the recovery code on the app's device first, counted it as a wrong
    # app code and holds that device back for a second; a person takes longer than that
    # to type the next code.
    time.sleep(1.1)
    return browser


# --- the review's attack ----------------------------------------------------------------


def test_a_password_only_session_cannot_enrol_an_attackers_authenticator(owner, mailoutbox):
    before = _factor_rows(owner)
    factor_events = Event.objects.filter(
        object_ref=owner.username,
        action__in=[Action.FACTOR_ENROL, Action.FACTOR_REPLACE, Action.UPDATE],
    )
    events_before = factor_events.count()
    mailoutbox.clear()
    attacker = Client()
    _sign_in(attacker, owner)  # a phished password, nothing more

    page = attacker.get(SETUP)
    # The attacker adds the key shown (if any) to their own app, or brings their own.
    attackers_key = _key_on_page(page.content.decode()) or bytes(range(20))
    confirmed = attacker.post(SETUP, {"token": _code(attackers_key)})
    # Nor is the step-up page a way around the second factor.
    stepped = attacker.post(REAUTH, {"password": PASSWORD, "token": "", "next": SETUP})

    assert _factor_rows(owner) == before  # the owner's device and recovery codes intact
    assert attacker.get(HOME)["Location"].startswith(VERIFY)  # and no verified session
    assert _recovery_codes(confirmed.content.decode()) == []
    assert factor_events.count() == events_before
    assert mailoutbox == []
    # A password-only session reaches verification and sign-out, nothing else.
    assert page.status_code == 302
    assert page["Location"].startswith(VERIFY)
    assert confirmed.status_code == 302
    assert stepped.status_code == 302
    assert stepped["Location"].startswith(VERIFY)

    # The owner still signs in with a recovery code and with the app.
    assert _verified_session(owner).get(HOME).status_code == 200
    browser = Client()
    _sign_in(browser, owner)
    browser.post(VERIFY, {"token": _unused_code(owner.app_key, owner)})
    assert browser.get(HOME).status_code == 200


def test_a_get_of_the_set_up_page_changes_no_device_rows(owner, db):
    newcomer = make_user(Role.SUPERVISOR, organisation=make_organisation(), username="shinjin")
    browser = Client()
    _sign_in(browser, newcomer)
    for _ in range(2):
        assert browser.get(SETUP).status_code == 200
        assert _factor_rows(newcomer) == {"totp": [], "static": [], "tokens": []}

    # The enrolled owner, verified and freshly stepped up: the page shows a new key, and
    # still nothing changes until a code confirms it.
    browser = _verified_session(owner)
    browser.post(
        REAUTH, {"password": PASSWORD, "token": _unused_code(owner.app_key, owner), "next": "/"}
    )
    before = _factor_rows(owner)
    first = browser.get(SETUP)
    assert _key_on_page(first.content.decode()) is not None
    second = browser.get(SETUP)
    # Reloading the page keeps the key the app may already hold.
    assert _key_on_page(second.content.decode()) == _key_on_page(first.content.decode())
    assert _factor_rows(owner) == before


def test_a_verified_session_without_a_step_up_with_the_factor_cannot_replace_it(owner, mailoutbox):
    # Signing in with the password and the app's code is not the step-up.
    browser = Client()
    _sign_in(browser, owner)
    assert browser.post(VERIFY, {"token": _unused_code(owner.app_key, owner)}).status_code == 302
    assert browser.get(HOME).status_code == 200
    before = _factor_rows(owner)

    page = browser.get(SETUP)
    key = _key_on_page(page.content.decode()) or bytes(range(20))
    confirmed = browser.post(SETUP, {"token": _code(key)})
    assert _factor_rows(owner) == before
    assert _recovery_codes(confirmed.content.decode()) == []
    assert page["Location"].startswith(REAUTH)
    # A step-up with the password alone is refused: the code is part of it.
    browser.post(REAUTH, {"password": PASSWORD, "next": SETUP})
    assert browser.get(SETUP)["Location"].startswith(REAUTH)
    assert _factor_rows(owner) == before


def test_with_a_step_up_the_owner_replaces_the_factor_is_told_and_loses_api_tokens(
    owner, mailoutbox
):
    browser = _verified_session(owner)
    raw = _token(browser)
    assert _api(raw, PLANS) == 200
    old = _factor_rows(owner)
    mailoutbox.clear()

    stepped = browser.post(
        REAUTH, {"password": PASSWORD, "token": _unused_code(owner.app_key, owner), "next": SETUP}
    )
    assert stepped["Location"] == SETUP
    new_key = _key_on_page(browser.get(SETUP).content.decode())
    assert new_key is not None and new_key != owner.app_key
    done = browser.post(SETUP, {"token": _code(new_key)})
    new_codes = _recovery_codes(done.content.decode())
    assert len(new_codes) == 10

    device = TOTPDevice.objects.get(user=owner)
    assert device.confirmed and device.bin_key == new_key
    assert not (set(owner.recovery) & {t for _d, t in _factor_rows(owner)["tokens"]})
    assert {pk for pk, *_ in old["totp"]}.isdisjoint({pk for pk, *_ in _factor_rows(owner)["totp"]})
    replaced = Event.objects.filter(action=Action.FACTOR_REPLACE, object_ref=owner.username)
    assert replaced.count() == 1
    assert replaced.get().actor_id == owner.pk
    assert not Event.objects.filter(action=Action.UPDATE, detail__two_factor="enrolled").exists()
    told = [m for m in mailoutbox if owner.email in m.to]
    assert len(told) == 1
    secret = base64.b32encode(new_key).decode().rstrip("=")
    assert secret[:8] not in told[0].body and new_codes[0] not in told[0].body
    assert _api(raw, PLANS) == 401  # the token made before the change is dead
    revoked = Event.objects.get(action=Action.TOKEN_REVOKE)
    assert revoked.detail["reason"] == "factor_replace"
    assert browser.get(HOME).status_code == 200  # this session stays verified

    # The step-up is spent: replacing again needs a new one (with the new factor).
    assert browser.get(SETUP)["Location"].startswith(REAUTH)
    # The old recovery codes no longer open a session; the new ones do.
    other = Client()
    _sign_in(other, owner)
    other.post(VERIFY, {"token": owner.recovery[0]})
    assert other.get(HOME).status_code == 302
    time.sleep(1.1)  # django-otp delays the next try by a second after a wrong code
    other.post(VERIFY, {"token": new_codes[0]})
    assert other.get(HOME).status_code == 200


def test_first_enrolment_is_its_own_audit_action_and_tells_the_owner(db, mailoutbox):
    user = make_user(
        Role.AUDITOR, organisation=make_organisation(), username="kansa", email="kansa@example.jp"
    )
    browser = Client()
    _sign_in(browser, user)
    _enrol(browser)
    assert browser.get(reverse("audit:browser")).status_code == 200
    enrolled = Event.objects.filter(action=Action.FACTOR_ENROL, object_ref=user.username)
    assert enrolled.count() == 1
    assert not Event.objects.filter(action=Action.FACTOR_REPLACE).exists()
    assert [m.to for m in mailoutbox] == [[user.email]]


def test_own_password_change_is_audited_keeps_the_session_and_revokes_api_tokens(db, mailoutbox):
    user = make_user(
        Role.COUNSELLOR, organisation=make_organisation(), username="soudan", email="s@example.jp"
    )
    browser, elsewhere = Client(), Client()
    _sign_in(browser, user)
    _sign_in(elsewhere, user)
    raw = _token(browser)
    assert _api(raw, INBOX) == 200
    url = reverse("accounts:password_change")
    new_password = "a new and longer passphrase 42"

    wrong = browser.post(
        url,
        {"old_password": "not it", "new_password1": new_password, "new_password2": new_password},
    )
    assert wrong.status_code == 200
    assert not Event.objects.filter(action=Action.PASSWORD_CHANGE).exists()
    assert _api(raw, INBOX) == 200

    changed = browser.post(
        url,
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )
    assert changed.status_code == 302
    event = Event.objects.get(action=Action.PASSWORD_CHANGE)
    assert event.actor_id == user.pk and event.object_ref == user.username
    flat = f"{event.detail} {event.object_ref} {event.object_type}"
    assert PASSWORD not in flat and new_password not in flat
    user.refresh_from_db()
    assert user.password not in flat  # not even the hash
    assert browser.get(HOME).status_code == 200  # this session stays signed in
    assert elsewhere.get(HOME).status_code == 302  # other sessions end
    assert _api(raw, INBOX) == 401
    assert Event.objects.get(action=Action.TOKEN_REVOKE).detail["reason"] == "password_change"
    told = [m for m in mailoutbox if user.email in m.to]
    assert len(told) == 1
    assert new_password not in told[0].body


# --- ASVS 5.0 7.2.4: a new session key whenever the session authenticates again ----------


def test_the_session_key_changes_when_the_factor_is_passed_and_on_a_step_up(client):
    from django.conf import settings

    user = make_user(Role.SUPERVISOR, organisation=make_organisation())
    _sign_in(client, user)
    key, _codes = _enrol(client)
    client.post(reverse("accounts:logout"))
    _sign_in(client, user)
    before_factor = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.post(VERIFY, {"token": _unused_code(key, user)}).status_code == 302
    after_factor = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after_factor != before_factor
    assert client.get(HOME).status_code == 200  # still signed in, on the new key
    stolen = Client()
    stolen.cookies[settings.SESSION_COOKIE_NAME] = before_factor
    assert stolen.get(HOME).status_code == 302  # the old key is gone
    client.post(REAUTH, {"password": PASSWORD, "token": _unused_code(key, user), "next": "/"})
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != after_factor
    assert client.get(HOME).status_code == 200


def test_an_all_digit_passphrase_of_twelve_or_more_is_allowed(client):
    user = make_user(Role.COUNSELLOR, organisation=make_organisation())
    _sign_in(client, user)
    new = "314159265358979323"
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)
