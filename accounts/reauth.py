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

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

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
