"""Deny-by-default access control for every view.

Each URL name has one `Rule` in the access matrix (`config/access.py`). The middleware
looks the view up before it runs: a view with no rule is refused (403) for everybody, an
anonymous visitor is sent to the login page, and a user without the rule's permissions
gets 403 and an audit event. Object-level rules (which case, which referral) are enforced
again by the selectors and services the view calls; the matrix names them so a reader sees
the whole policy in one place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from .models import User

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    public: bool = False
    permissions: tuple[str, ...] = ()
    object_rule: str = ""

    def allows(self, user: object) -> bool:
        if self.public:
            return True
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return False
        return user.has_perms(self.permissions)


PUBLIC = Rule(public=True)
AUTHENTICATED = Rule()


def needs(*permissions: str, object_rule: str = "") -> Rule:
    """A rule requiring every named permission (`app_label.codename`)."""
    return Rule(permissions=tuple(permissions), object_rule=object_rule)


def access_matrix() -> dict[str, Rule]:
    return import_string(getattr(settings, "ACCESS_MATRIX", "config.access.MATRIX"))


def rule_for(view_name: str, matrix: dict[str, Rule] | None = None) -> Rule | None:
    """The rule of a view name; `namespace:*` entries cover a whole namespace."""
    matrix = access_matrix() if matrix is None else matrix
    if view_name in matrix:
        return matrix[view_name]
    namespace = view_name.rpartition(":")[0]
    while namespace:
        wildcard = matrix.get(f"{namespace}:*")
        if wildcard is not None:
            return wildcard
        namespace = namespace.rpartition(":")[0]
    return None


def iter_view_names(urlconf: str | None = None) -> Iterator[tuple[str, str]]:
    """(view name, route) of every URL pattern, named the way `resolver_match` names it."""

    def walk(patterns: list, namespaces: list[str], prefix: str) -> Iterator[tuple[str, str]]:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                ns = [*namespaces, pattern.namespace] if pattern.namespace else namespaces
                yield from walk(pattern.url_patterns, ns, route)
            elif isinstance(pattern, URLPattern):
                name = pattern.name or _callback_path(pattern.callback)
                yield ":".join([*namespaces, name]), route

    yield from walk(get_resolver(urlconf).url_patterns, [], "/")


def _callback_path(callback: Callable) -> str:
    func = getattr(callback, "view_class", callback)
    return f"{func.__module__}.{func.__qualname__}"


def is_api_path(request: HttpRequest) -> bool:
    """Under the REST API (`API_PATH_PREFIX`): answers are JSON, never a login page."""
    return request.path_info.startswith(settings.API_PATH_PREFIX)


def is_token_request(request: HttpRequest) -> bool:
    """Authenticated by an API token (api.authentication), not by a session."""
    return getattr(request, "api_token", None) is not None


class _WithUser(Protocol):
    @property
    def user(self) -> object: ...


def signed_in(request: _WithUser) -> User:
    """The user of a request to a view that is not public (a Django or a DRF request): the
    middleware below lets only a signed-in user through, so this is the `User` that
    services and selectors take. An anonymous user here means a view wrongly marked
    public, and is refused."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


class AccessMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: tuple, view_kwargs: dict
    ) -> HttpResponse | None:
        view_name = request.resolver_match.view_name
        rule = rule_for(view_name)
        if rule is None:
            logger.error("View %s has no entry in the access matrix; refused.", view_name)
            return self._deny(request, view_name, "not in the access matrix")
        if rule.public:
            return None
        if not request.user.is_authenticated:
            if is_api_path(request):
                response = JsonResponse(
                    {"detail": _("認証が必要です。APIトークンまたはログインが必要です。")},
                    status=401,
                )
                response["WWW-Authenticate"] = 'Bearer realm="api"'
                return response
            return redirect_to_login(request.get_full_path())
        if not rule.allows(request.user):
            return self._deny(request, view_name, "missing permission")
        return None

    def _deny(self, request: HttpRequest, view_name: str, reason: str) -> HttpResponse:
        from audit.models import Action
        from audit.services import record

        record(
            Action.PERMISSION_DENIED,
            object_type="view",
            object_ref=view_name[:100],
            detail={"path": request.path[:300], "method": request.method, "reason": reason},
        )
        if is_api_path(request):
            return JsonResponse({"detail": _("この操作を行う権限がありません。")}, status=403)
        raise PermissionDenied(reason)
