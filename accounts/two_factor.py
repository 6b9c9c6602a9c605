"""Two-factor authentication (TOTP, django-otp) with single-use recovery codes.

Required for holders of `accounts.requires_two_factor` (supervisors, auditors, system
administrators) while TWO_FACTOR_ENFORCED, optional for everyone else. A permission, not a
role name: the check reads the permission cache the access middleware loads anyway. Such a
user who has not passed the second factor in this session reaches no page but enrolment
or verification (and sign-out): `TwoFactorMiddleware`. Enrolment shows the TOTP key for
an authenticator app, confirms it with a code, and shows ten recovery codes once; each
works one time. django-otp throttles repeated wrong codes per device.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.access import is_api_path, is_token_request
from audit.models import Action
from audit.services import record

RECOVERY_CODES = 10
# Views a user who still owes the second factor may reach.
OPEN_VIEWS = frozenset(
    {
        "accounts:two_factor_setup",
        "accounts:two_factor_verify",
        "accounts:reauthenticate",
        "accounts:logout",
        "accounts:login",
        "set_language",
        "health",
    }
)


def required_for(user) -> bool:
    return settings.TWO_FACTOR_ENFORCED and user.has_perm("accounts.requires_two_factor")


def enrolled(user) -> bool:
    return any(isinstance(d, TOTPDevice) for d in devices_for_user(user, confirmed=True))


def start_enrolment(user) -> TOTPDevice:
    """A fresh, unconfirmed TOTP device (any earlier unconfirmed one is replaced)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


def confirm_enrolment(request: HttpRequest, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the device with a code from the app; returns the new recovery codes, or
    None when the code is wrong. Replaces any earlier devices of the user."""
    if not device.verify_token(token):
        return None
    user = request.user
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        StaticDevice.objects.filter(user=user).delete()
        recovery = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=recovery, token=c) for c in codes)
        record(Action.UPDATE, obj=user, detail={"two_factor": "enrolled"})
    otp_login(request, device)
    return codes


def verify(request: HttpRequest, token: str) -> bool:
    """Pass the second factor with a TOTP code or an unused recovery code."""
    token = token.strip().replace(" ", "")
    for device in devices_for_user(request.user, confirmed=True):
        if device.verify_is_allowed()[0] and device.verify_token(token):
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                record(Action.LOGIN, obj=request.user, detail={"two_factor": "recovery_code"})
            return True
    record(Action.LOGIN_FAILED, obj=request.user, detail={"two_factor": "wrong_code"})
    return False


class TwoFactorMiddleware:
    """After django-otp's OTPMiddleware: users who must use two factors and have not in
    this session are sent to verification (or enrolment), whatever they ask for."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.is_verified():
            return None
        if is_token_request(request):  # the token was made in a session that passed it
            return None
        match = request.resolver_match
        if match is not None and match.view_name in OPEN_VIEWS:
            return None
        if request.path.startswith(settings.STATIC_URL):
            return None
        if not required_for(user):
            return None
        if is_api_path(request):
            return JsonResponse(
                {"detail": _("二要素認証を済ませたセッション、またはAPIトークンが必要です。")},
                status=403,
            )
        target = "accounts:two_factor_verify" if enrolled(user) else "accounts:two_factor_setup"
        return redirect(target)
