"""Step-up re-authentication: revealing an identity or withdrawing a consent needs a
password (and the second factor when enrolled) within REAUTH_MINUTES; signing in counts.
Replacing the second factor needs a step-up that included it; signing in does not count."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from accounts import reauth
from accounts.roles import Role
from audit.models import Action, Event
from casework import services
from tests.factories import PASSWORD, make_organisation, make_user


@pytest.fixture
def counsellor(world):
    return world.counsellor


def _age_authentication(client, minutes: float) -> None:
    """Let `minutes` pass since the last sign-in or step-up (with or without the factor)."""
    session = client.session
    session[reauth.AUTHENTICATED_AT] = time.time() - minutes * 60
    if reauth.FACTOR_STEP_UP in session:
        session[reauth.FACTOR_STEP_UP] = {
            **session[reauth.FACTOR_STEP_UP],
            "at": time.time() - minutes * 60,
        }
    session.save()


def test_reveal_right_after_sign_in_works_and_later_needs_the_password(
    client, counsellor, settings
):
    settings.REAUTH_MINUTES = 5
    case = services.open_case(counsellor, identity={"name": "確認 花子"}, case_fields={})
    client.force_login(counsellor)
    url = reverse("casework:identity_reveal", args=[case.code])
    assert "確認 花子" in client.post(url).content.decode()
    reveals = Event.objects.filter(action=Action.IDENTITY_REVEAL).count()

    _age_authentication(client, 6)
    detail = reverse("casework:case_detail", args=[case.code])
    response = client.post(url, HTTP_REFERER=detail)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:reauthenticate"))
    assert Event.objects.filter(action=Action.IDENTITY_REVEAL).count() == reveals  # not revealed
    htmx = client.post(url, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=detail)
    assert htmx["HX-Redirect"].startswith(reverse("accounts:reauthenticate"))

    page = reverse("accounts:reauthenticate") + f"?next={detail}"
    wrong = client.post(page, {"password": "wrong", "next": detail})
    assert "正しくありません" in wrong.content.decode()
    assert client.post(url).status_code == 302  # still refused
    right = client.post(page, {"password": PASSWORD, "next": detail})
    assert right["Location"] == detail
    assert "確認 花子" in client.post(url).content.decode()


@pytest.mark.two_factor
def test_with_a_second_factor_the_code_is_needed_too(client, counsellor):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=counsellor, name="app", confirmed=True)
    client.force_login(counsellor)
    _age_authentication(client, 60)
    page = reverse("accounts:reauthenticate")
    assert 'name="token"' in client.get(page).content.decode()
    refused = client.post(page, {"password": PASSWORD, "token": "000000x"})
    assert "正しくありません" in refused.content.decode()
    assert not reauth.is_recent(refused.wsgi_request)
    device.throttle_reset()
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    accepted = client.post(page, {"password": PASSWORD, "token": code, "next": "/"})
    assert accepted.status_code == 302
    assert reauth.is_recent_with_factor(accepted.wsgi_request)
    assert client.get(reverse("accounts:two_factor_setup")).status_code == 200
    # Replacing the second factor needs that step-up to be recent.
    _age_authentication(client, 60)
    assert client.get(reverse("accounts:two_factor_setup"))["Location"].startswith(page)


@pytest.mark.two_factor
def test_signing_in_with_both_factors_is_not_a_step_up_with_the_factor(client, db):
    """Signing in counts as a recent password (for a reveal), never as the step-up that
    may replace the factor."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    supervisor = make_user(Role.SUPERVISOR, organisation=make_organisation())
    device = TOTPDevice.objects.create(user=supervisor, name="app", confirmed=True)
    client.post(reverse("accounts:login"), {"username": supervisor.username, "password": PASSWORD})
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    verified = client.post(reverse("accounts:two_factor_verify"), {"token": code})
    assert verified.status_code == 302
    assert reauth.is_recent(verified.wsgi_request)
    assert not reauth.is_recent_with_factor(verified.wsgi_request)
    setup = client.get(reverse("accounts:two_factor_setup"))
    assert setup["Location"].startswith(reverse("accounts:reauthenticate"))


def test_the_return_address_stays_on_this_site(client, counsellor):
    client.force_login(counsellor)
    response = client.post(
        reverse("accounts:reauthenticate"), {"password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_changing_the_consent_date_needs_a_recent_authentication(client, counsellor):
    from casework.models import Case

    case = services.open_case(counsellor, identity={"name": "同意 次郎"}, case_fields={})
    form = {
        "status": "active",
        "withdrawal_band": "unknown",
        "summary": "",
        "version": case.version,
    }
    url = reverse("casework:case_edit", args=[case.code])
    client.force_login(counsellor)
    _age_authentication(client, 60)
    # Other fields save as before.
    assert client.post(url, {**form, "summary": "経過"}).status_code == 302
    form["version"] = Case.objects.get(pk=case.pk).version
    refused = client.post(url, {**form, "summary": "経過", "sharing_consent_on": "2025-06-01"})
    assert refused["Location"].startswith(reverse("accounts:reauthenticate"))
    assert Case.objects.get(pk=case.pk).sharing_consent_on is None
    client.post(reverse("accounts:reauthenticate"), {"password": PASSWORD})
    saved = client.post(url, {**form, "summary": "経過", "sharing_consent_on": "2025-06-01"})
    assert saved.status_code == 302
    assert str(Case.objects.get(pk=case.pk).sharing_consent_on) == "2025-06-01"
