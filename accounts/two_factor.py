"""Two-factor authentication (TOTP, django-otp) with single-use recovery codes.

Required for holders of `accounts.requires_two_factor` (supervisors, auditors, system
administrators) while TWO_FACTOR_ENFORCED, optional for everyone else. A permission, not a
role name: the check reads the permission cache the access middleware loads anyway. Such a
user who has not passed the second factor in this session reaches no page but enrolment
(while they have no factor yet) or verification (once they have one), and sign-out:
`TwoFactorMiddleware`. Enrolment shows a TOTP key for an authenticator app, confirms it
with a code, and shows ten recovery codes once; each works one time. django-otp throttles
repeated wrong codes per device.

Who may change a factor (`may_change_factor`, checked again by `confirm_enrolment`):
anyone signed in who has none (first enrolment, self-service at first sign-in); someone
who has one only in a session verified by it AND freshly stepped up with it on the
re-authentication page (accounts.reauth.is_recent_with_factor). A password alone never
replaces a factor; a lost one is reset by someone else. Showing the set-up page changes
nothing: the key being enrolled waits in the session until a code confirms it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from accounts import reauth
from accounts.access import is_api_path, is_token_request, signed_in
from audit.models import Action
from audit.services import record

from .credentials import tell_owner
from .signals import credentials_changed

RECOVERY_CODES = 10
DEVICE_NAME = "authenticator"
# The key being enrolled, hex as TOTPDevice.key holds it; only in the (server-side) session.
PENDING_KEY = "two_factor_pending_key"
# Views a user who owes the second factor may reach. Once they have a factor, only
# verification and sign-out: a password-only session must not reach enrolment (which
# would replace the factor) nor the step-up page.
BEFORE_VERIFICATION = frozenset(
    {
        "accounts:two_factor_verify",
        "accounts:logout",
        "accounts:login",
        "set_language",
        "health",
    }
)
BEFORE_ENROLMENT = BEFORE_VERIFICATION | {"accounts:two_factor_setup"}


def required_for(user) -> bool:
    return settings.TWO_FACTOR_ENFORCED and user.has_perm("accounts.requires_two_factor")


def enrolled(user) -> bool:
    """The user has a second factor: a confirmed device, the app or recovery codes."""
    return any(True for _device in devices_for_user(user, confirmed=True))


def may_change_factor(request: HttpRequest) -> bool:
    """First enrolment for a user without a factor; otherwise a session verified by the
    current factor with a fresh step-up that included it (signing in is not one)."""
    user = request.user
    if not user.is_authenticated:
        return False
    if not enrolled(user):
        return True
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified()) and reauth.is_recent_with_factor(request)


def pending_device(request: HttpRequest) -> TOTPDevice:
    """The device being enrolled, not saved: its key waits in the session, so showing
    (and reloading) the set-up page writes nothing to the device tables."""
    key = request.session.get(PENDING_KEY)
    if not isinstance(key, str) or len(key) != 40:
        key = random_hex(20)
        request.session[PENDING_KEY] = key
    return TOTPDevice(user=request.user, name=DEVICE_NAME, key=key, confirmed=False)


def _confirms(device: TOTPDevice, token: str) -> bool:
    """Whether `token` is the app's current code for the unsaved `device`. No throttling:
    the set-up page shows the key itself, so guessing its code gains nothing."""
    token = token.strip().replace(" ", "")
    if not (token.isascii() and token.isdigit() and len(token) == device.digits):
        return False
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not totp.verify(int(token), device.tolerance):
        return False
    device.last_t = totp.t()  # the confirming code cannot sign in again
    if getattr(settings, "OTP_TOTP_SYNC", True):
        device.drift = totp.drift
    return True


def confirm_enrolment(request: HttpRequest, token: str) -> list[str] | None:
    """Confirm the pending key with a code from the app: it becomes the user's factor,
    replacing any earlier device and recovery codes. Returns the new recovery codes, or
    None when the code is wrong (nothing changes). Raises PermissionDenied when this
    session may not change the factor (`may_change_factor`)."""
    if not may_change_factor(request):
        raise PermissionDenied
    user = signed_in(request)
    key = request.session.get(PENDING_KEY)
    if not isinstance(key, str) or len(key) != 40:
        return None
    device = TOTPDevice(user=user, name=DEVICE_NAME, key=key, confirmed=True)
    if not _confirms(device, token):
        return None
    with transaction.atomic():
        # One change of a user's factor at a time; decide enrol or replace under the lock.
        get_user_model().objects.select_for_update().only("pk").get(pk=user.pk)
        replacing = enrolled(user)
        if replacing and not may_change_factor(request):
            raise PermissionDenied
        TOTPDevice.objects.filter(user=user).delete()
        device.save()
        StaticDevice.objects.filter(user=user).delete()
        recovery = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=recovery, token=c) for c in codes)
        record(
            Action.FACTOR_REPLACE if replacing else Action.FACTOR_ENROL,
            obj=user,
            detail={"device": "totp", "recovery_codes": RECOVERY_CODES},
        )
        if replacing:
            credentials_changed.send(
                sender=get_user_model(), user=user, reason="factor_replace", actor=user
            )
    request.session.pop(PENDING_KEY, None)
    reauth.spend_factor_step_up(request.session)
    request.session.cycle_key()
    otp_login(request, device)
    if replacing:
        tell_owner(
            user,
            topic="factor_replace",
            subject=_("2段階認証が設定し直されました"),
            what=_(
                "2段階認証の認証アプリが設定し直されました。これまでの認証アプリと回復コード、"
                "APIトークンは使えなくなりました。"
            ),
        )
    else:
        tell_owner(
            user,
            topic="factor_enrol",
            subject=_("2段階認証を設定しました"),
            what=_("2段階認証（認証アプリ）が設定されました。"),
        )
    return codes


def verify(request: HttpRequest, token: str) -> bool:
    """Pass the second factor with a TOTP code or an unused recovery code."""
    token = token.strip().replace(" ", "")
    for device in devices_for_user(request.user, confirmed=True):
        if device.verify_is_allowed()[0] and device.verify_token(token):
            # A session that gains a factor gets a new key (ASVS 5.0 7.2.4): a key fixed
            # or seen before this point cannot ride on the stronger session.
            request.session.cycle_key()
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                record(Action.LOGIN, obj=signed_in(request), detail={"two_factor": "recovery_code"})
            return True
    record(Action.LOGIN_FAILED, obj=signed_in(request), detail={"two_factor": "wrong_code"})
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
        if request.path.startswith(settings.STATIC_URL):
            return None
        if not required_for(user):
            return None
        has_factor = enrolled(user)
        open_views = BEFORE_VERIFICATION if has_factor else BEFORE_ENROLMENT
        match = request.resolver_match
        if match is not None and match.view_name in open_views:
            return None
        if is_api_path(request):
            return JsonResponse(
                {"detail": _("二要素認証を済ませたセッション、またはAPIトークンが必要です。")},
                status=403,
            )
        target = "accounts:two_factor_verify" if has_factor else "accounts:two_factor_setup"
        return redirect(target)
