"""Authentication events go to the audit trail through Django's auth signals.

A name typed at the login form that belongs to no account is never kept as typed: people
type their password into the user name field. It is kept as a keyed digest
(`recorded_login_name`), in the audit trail and, through AXES_USERNAME_CALLABLE, in the
login policy's tables, so that repeated failures with the same unknown name still lock
that name (and look the same as for an existing one) without storing it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.utils.crypto import salted_hmac

from .models import Action
from .services import record

# Cannot be the start of a user name (Django's validator allows no ":"), so a digest never
# stands for an account.
UNKNOWN_NAME_PREFIX = "unknown-name:"
_DIGEST_SALT = "audit.signals.unknown-login-name"


def recorded_login_name(typed: str) -> str:
    """`typed` if it names an account; otherwise a keyed digest of it (HMAC-SHA256 with a
    key derived from SECRET_KEY, 12 hex digits): the same name gives the same digest."""
    if not typed:
        return typed
    user_model = get_user_model()
    if user_model._default_manager.filter(**{user_model.USERNAME_FIELD: typed}).exists():
        return typed
    digest = salted_hmac(_DIGEST_SALT, typed, algorithm="sha256").hexdigest()[:12]
    return UNKNOWN_NAME_PREFIX + digest


def axes_username(request: Any, credentials: dict[str, Any] | None = None) -> str | None:
    """django-axes' AXES_USERNAME_CALLABLE: the name its tables and lockouts use."""
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        typed = credentials.get(field)
    else:
        typed = getattr(request, "data", request.POST).get(field)
    if not typed:
        return typed
    # Asked several times per login attempt; the answer does not change within a request.
    cache = vars(request).setdefault("_recorded_login_names", {})
    if typed not in cache:
        cache[typed] = recorded_login_name(str(typed))
    return cache[typed]


@receiver(user_logged_in, dispatch_uid="audit_login")
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record(Action.LOGIN, actor=user, object_type="accounts.User", object_ref=user.get_username())


@receiver(user_logged_out, dispatch_uid="audit_logout")
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record(
            Action.LOGOUT, actor=user, object_type="accounts.User", object_ref=user.get_username()
        )


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    # Django has already masked the password in `credentials`; keep only the user name,
    # and that only if it names an account.
    username = recorded_login_name(str(credentials.get("username", "")))
    record(Action.LOGIN_FAILED, object_type="accounts.User", object_ref=username[:150])


def _locked_out(
    sender: Any, request: Any = None, username: str = "", ip_address: str = "", **kwargs: Any
) -> None:
    # django-axes passes the name from AXES_USERNAME_CALLABLE: already a digest if unknown.
    record(
        Action.LOCKOUT,
        object_type="accounts.User",
        object_ref=str(username or "")[:150],
        detail={"ip_address": ip_address},
    )


try:  # django-axes is the login policy; audit only listens to it
    from axes.signals import user_locked_out
except ImportError:  # pragma: no cover
    pass
else:
    user_locked_out.connect(_locked_out, dispatch_uid="audit_lockout")
