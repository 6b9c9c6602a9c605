"""Authentication events go to the audit trail through Django's auth signals."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .models import Action
from .services import record


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
    # Django has already masked the password in `credentials`; keep only the user name.
    username = str(credentials.get("username", ""))[:150]
    record(Action.LOGIN_FAILED, object_type="accounts.User", object_ref=username)


def _locked_out(
    sender: Any, request: Any = None, username: str = "", ip_address: str = "", **kwargs: Any
) -> None:
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
