"""Step-up re-authentication: sensitive actions (revealing an identity, withdrawing a
consent) need the password — and the second factor when the user has one — within the
last REAUTH_MINUTES (default 5). Signing in counts.

`recent_auth_required` wraps such a view: when the last authentication is older, the
user is sent to `accounts:reauthenticate` (for htmx requests through HX-Redirect) and
comes back to the page they were on; the action is not performed until then.

Changing the second factor itself needs more (`is_recent_with_factor`): a step-up on the
re-authentication page that passed the password AND the current factor, within
REAUTH_MINUTES, by the device this session is verified with. Signing in never counts as
one (it proves the password, and the sign-in code proves the factor only once), and it is
spent by the change it allowed (`spend_factor_step_up`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext

AUTHENTICATED_AT = "reauth_at"
# {"at": epoch seconds, "device": persistent id of the device that passed the step-up}
FACTOR_STEP_UP = "reauth_factor_step_up"


def mark(session) -> None:
    session[AUTHENTICATED_AT] = time.time()


def is_recent(request: HttpRequest) -> bool:
    at = request.session.get(AUTHENTICATED_AT)
    return at is not None and time.time() - float(at) <= settings.REAUTH_MINUTES * 60


def recent_auth_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if is_recent(request):
            return view(request, *args, **kwargs)
        back = request.headers.get("HX-Current-URL") or request.META.get("HTTP_REFERER") or "/"
        target = reverse("accounts:reauthenticate") + "?" + urlencode({"next": back})
        if getattr(request, "htmx", False):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return redirect(target)

    return wrapper


# --- step-up as a proof the services check --------------------------------------------
# A service that reveals something sensitive takes a `StepUp` from its caller and refuses
# with `StepUpRequired` when it is not fresh, so no screen, export or API path can skip
# the check by forgetting a decorator. `StepUpMiddleware` turns the refusal into the
# re-authentication page (or HX-Redirect, or a JSON 403 for the API).


class StepUpRequired(Exception):
    """The action needs a fresh step-up re-authentication; nothing was revealed."""


@dataclass(frozen=True)
class StepUp:
    """When the session last authenticated (password, and the second factor if enrolled)."""

    at: float | None

    def is_recent(self) -> bool:
        return self.at is not None and time.time() - float(self.at) <= settings.REAUTH_MINUTES * 60

    def require(self) -> None:
        if not self.is_recent():
            raise StepUpRequired


NO_STEP_UP = StepUp(None)


def step_up_of(request: HttpRequest) -> StepUp:
    """The step-up state of a session; an API token never carries one."""
    session = getattr(request, "session", None)
    if session is None or getattr(request, "api_token", None) is not None:
        return NO_STEP_UP
    return StepUp(session.get(AUTHENTICATED_AT))


def ask_for_step_up(request: HttpRequest) -> HttpResponse:
    """Send the user to re-authenticate and back to the page they came from."""
    back = request.headers.get("HX-Current-URL") or request.META.get("HTTP_REFERER") or "/"
    if request.method == "GET":
        back = request.get_full_path()
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}):
        back = "/"
    target = reverse("accounts:reauthenticate") + "?" + urlencode({"next": back})
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return redirect(target)


class StepUpMiddleware:
    """Answers `StepUpRequired` raised anywhere below a view."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, StepUpRequired):
            return None
        from .access import is_api_path

        if is_api_path(request):
            return JsonResponse(
                {"detail": gettext("この操作には画面での本人確認（再認証）が必要です。")},
                status=403,
            )
        messages.warning(
            request,
            gettext("この操作には本人確認が必要です。確認のあと、もう一度操作してください。"),
        )
        return ask_for_step_up(request)


# --- step-up that included the second factor (accounts.two_factor.may_change_factor) ---


def mark_with_factor(request: HttpRequest) -> None:
    """The re-authentication page passed the password and a code of the second factor in
    this request (django_otp has set request.user.otp_device to the device that took it)."""
    device = getattr(request.user, "otp_device", None)
    if device is None:
        raise ValueError("mark_with_factor needs a session verified by the second factor")
    request.session[FACTOR_STEP_UP] = {"at": time.time(), "device": device.persistent_id}


def is_recent_with_factor(request: HttpRequest) -> bool:
    """A step-up that included the second factor within REAUTH_MINUTES, by the device that
    still verifies this session (a deleted or replaced device ends it)."""
    step_up = request.session.get(FACTOR_STEP_UP)
    device = getattr(request.user, "otp_device", None)
    if not isinstance(step_up, dict) or device is None:
        return False
    fresh = time.time() - float(step_up.get("at", 0)) <= settings.REAUTH_MINUTES * 60
    return fresh and step_up.get("device") == device.persistent_id


def spend_factor_step_up(session) -> None:
    """The change the step-up allowed has been made; another one needs a new step-up."""
    session.pop(FACTOR_STEP_UP, None)
