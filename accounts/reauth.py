"""Step-up re-authentication: sensitive actions (revealing an identity, withdrawing a
consent, changing the second factor) need the password — and the second factor when the
user has one — within the last REAUTH_MINUTES (default 5). Signing in counts.

`recent_auth_required` wraps such a view: when the last authentication is older, the
user is sent to `accounts:reauthenticate` (for htmx requests through HX-Redirect) and
comes back to the page they were on; the action is not performed until then.
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
