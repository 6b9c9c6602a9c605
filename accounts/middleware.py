"""Session policy: idle and absolute timeouts, and no caching of signed-in pages; reads
started by another site; the Permissions-Policy header; input refused before any view.

The idle timeout ends a session left alone for SESSION_IDLE_MINUTES (default 15); the
absolute timeout ends any session SESSION_ABSOLUTE_HOURS (default 10) after sign-in,
however busy. A disabled user's sessions end at once without help from here: the
authentication backend refuses inactive users on every request.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from .access import is_api_path, is_token_request, rule_for

LAST_SEEN = "policy_last_seen"
SIGNED_IN = "policy_signed_in"
# The idle clock is kept to the minute, so most requests write nothing to the session.
RESOLUTION_SECONDS = 60


class SessionPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not is_token_request(request):
            expired = self._expired(request)
            if expired:
                path = request.get_full_path()
                logout(request)
                messages.info(request, expired)
                return redirect_to_login(path)
        response = self.get_response(request)
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            # Pages of signed-in staff may show case data: never keep them in any cache.
            response["Cache-Control"] = "no-store"
        return response

    def _expired(self, request: HttpRequest) -> str:
        now = time.time()
        session = request.session
        if SIGNED_IN not in session:  # a session from before this policy
            start_clock(session)
        signed_in, last_seen = session[SIGNED_IN], session[LAST_SEEN]
        idle = idle_seconds()
        absolute = getattr(settings, "SESSION_ABSOLUTE_HOURS", 10) * 3600
        if now - last_seen > idle:
            return _("一定時間操作がなかったため、ログアウトしました。")
        if now - signed_in > absolute:
            return _(
                "ログインから時間が経過したため、ログアウトしました。再度ログインしてください。"
            )
        if now - last_seen > RESOLUTION_SECONDS and not _asks_only_how_long(request):
            session[LAST_SEEN] = now
        return ""


def _asks_only_how_long(request: HttpRequest) -> bool:
    # No sign of someone at the keyboard: a page asking how long its session has left, or
    # a request another site started (refused anyway by CrossSiteReadMiddleware; counting
    # it would let any page keep an unattended session alive).
    return request.path == reverse("accounts:session_status") or request.headers.get(
        "Sec-Fetch-Site"
    ) in ("cross-site", "same-site")


def idle_seconds() -> int:
    return getattr(settings, "SESSION_IDLE_MINUTES", 15) * 60


def remaining_seconds(request: HttpRequest) -> int:
    """Seconds until the idle timeout ends this session, unless something happens."""
    last_seen = request.session.get(LAST_SEEN, time.time())
    # Rounded up: a page never believes its session ends before the server does.
    return max(0, math.ceil(idle_seconds() - (time.time() - last_seen)))


def session_policy(request: HttpRequest) -> dict[str, int]:
    """Template context: the page warns before the idle timeout (static/js/session.js)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"session_remaining": 0, "session_warning": 0, "session_idle": 0}
    return {
        "session_idle": idle_seconds(),
        "session_remaining": remaining_seconds(request),
        "session_warning": getattr(settings, "SESSION_WARNING_SECONDS", 120),
    }


def start_idle_clock(session) -> None:
    session[LAST_SEEN] = time.time()


def start_clock(session) -> None:
    """Called at sign-in (accounts.apps connects it to user_logged_in)."""
    now = time.time()
    session[SIGNED_IN] = now
    session[LAST_SEEN] = now


class RejectNulMiddleware:
    """Answer 400 to input the database cannot even be asked about.

    A NUL character in the path or any parameter: no text in this application contains one,
    PostgreSQL cannot store one, and views that read a parameter directly (not through a
    form, whose fields already refuse it) would otherwise fail with a database error.
    A number too large for the database driver (an id of 2**63 in a choice field reaches
    SQLite as an OverflowError): answered the same way, whatever the view.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path_info:
            return bad_request(request, _("入力に使えない文字（NUL）が含まれています。"))
        sources = [request.GET] + ([request.POST] if request.method == "POST" else [])
        for params in sources:
            for key, values in params.lists():
                if "\x00" in key or any("\x00" in v for v in values):
                    return bad_request(request, _("入力に使えない文字（NUL）が含まれています。"))
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OverflowError):
            return bad_request(request, _("入力された数値が大きすぎます。"))
        return None


def bad_request(request: HttpRequest, message: str) -> HttpResponse:
    """A 400 with the reason: JSON under the API, plain text elsewhere."""
    if is_api_path(request):
        return JsonResponse({"detail": message}, status=400)
    return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")


class CrossSiteReadMiddleware:
    """A read that another site started never runs a signed-in user's view.

    Many reads record an audit event (a case view, an identity shown, minutes read, an
    export), so a link or an image on another site could write events in a user's name.
    Browsers say where a request comes from in `Sec-Fetch-Site`. For a signed-in user (not
    an API token, whose client sends no cookies a site could borrow) and a view that is
    not public, a GET or HEAD marked `cross-site` or `same-site` (another host of the same
    registrable domain, which could be anyone's) does not reach the view: a top-level
    navigation gets a short page with a link to continue on this site, whose click is a
    same-origin request; anything else (images, scripts, fetches, frames) gets 403. A
    request without the header (older browsers, scripts, the test client) and one marked
    `same-origin` or `none` (typed, bookmarked) passes. Writes are CSRF-protected already.
    """

    SAFE_METHODS = ("GET", "HEAD")
    FOREIGN = ("cross-site", "same-site")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: tuple, view_kwargs: dict
    ) -> HttpResponse | None:
        if request.method not in self.SAFE_METHODS:
            return None
        if request.headers.get("Sec-Fetch-Site", "").lower() not in self.FOREIGN:
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or is_token_request(request):
            return None
        rule = rule_for(request.resolver_match.view_name)
        if rule is not None and rule.public:
            return None
        message = _("他のサイトから開かれたため、このページを表示しませんでした。")
        if is_api_path(request):
            return JsonResponse({"detail": message}, status=403)
        navigation = request.headers.get("Sec-Fetch-Mode", "").lower() == "navigate"
        document = request.headers.get("Sec-Fetch-Dest", "document").lower() == "document"
        if navigation and document:
            # One leading slash: "//host" would be a link to another site.
            target = "/" + request.get_full_path().lstrip("/")
            return render(request, "accounts/cross_site.html", {"target": target}, status=403)
        return HttpResponse(message, status=403, content_type="text/plain; charset=utf-8")


class PasswordChangeRequiredMiddleware:
    """A user whose password someone else reset (accounts.approvals) reaches only the
    password change page, sign-out and the second-factor steps until they have chosen
    their own password. Static files never reach a view."""

    OPEN_VIEWS = frozenset(
        {
            "accounts:password_change",
            "accounts:password_change_done",
            "accounts:logout",
            "accounts:login",
            "accounts:two_factor_setup",
            "accounts:two_factor_verify",
            "accounts:reauthenticate",
            "set_language",
            "health",
        }
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.must_change_password:
            return None
        match = request.resolver_match
        if match is not None and match.view_name in self.OPEN_VIEWS:
            return None
        message = _("パスワードが再設定されています。新しいパスワードを設定してください。")
        if is_api_path(request):
            return JsonResponse({"detail": message}, status=403)
        messages.warning(request, message)
        return redirect("accounts:password_change")


class PermissionsPolicyMiddleware:
    """The Permissions-Policy header (settings.PERMISSIONS_POLICY) on every response,
    static files and error pages included."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = getattr(settings, "PERMISSIONS_POLICY", {})
        if policy and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = ", ".join(
                f"{feature}=({' '.join(allowed)})" for feature, allowed in policy.items()
            )
        return response
