"""Bearer tokens for the API, resolved before the access matrix is consulted.

`BearerTokenMiddleware` sits right after Django's AuthenticationMiddleware: on an API path
(`API_PATH_PREFIX`) with `Authorization: Bearer …` it sets `request.user` to the token's
user, so the access middleware, the object rules and the audit trail see the same user as
for a screen. A token that is unknown, revoked or expired, or whose user is inactive,
is answered 401 with the reason; nothing else runs. Requests without the header go on
with the session (Django REST framework then checks CSRF on unsafe methods).

Token requests carry no session: the session policy and the second-factor check skip
them (`accounts.access.is_token_request`), because the second factor was passed in the session that
made the token.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from accounts.access import is_api_path

from .models import ApiToken, digest

# The last-used time is kept to the minute, so most requests write nothing.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


def unauthorised(detail: str) -> JsonResponse:
    response = JsonResponse({"detail": detail}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


class BearerTokenMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.api_token = None
        header = request.headers.get("Authorization", "")
        if not header or not is_api_path(request):
            return self.get_response(request)
        scheme, _sep, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            return unauthorised(
                _("Authorization ヘッダーは「Bearer トークン」の形式で送ってください。")
            )
        token = ApiToken.objects.usable().select_related("user").filter(digest=digest(raw.strip()))
        found = token.first()
        if found is None:
            return unauthorised(_("APIトークンが無効です（期限切れ・無効化を含む）。"))
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        request.api_token = found
        return self.get_response(request)


class BearerTokenAuthentication(BaseAuthentication):
    """Hands Django REST framework the user the middleware resolved from the token."""

    def authenticate(self, request: Request):
        token = getattr(request._request, "api_token", None)
        if token is None:
            return None
        return request._request.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
