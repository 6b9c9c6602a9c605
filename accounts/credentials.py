"""A user's change of their own credentials, and what follows every such change: one audit
event, the `credentials_changed` signal inside the same transaction (the api app revokes
the user's API tokens on it), and an e-mail to the user so that a change they did not
make does not go unnoticed.

The password is changed here; the second factor in accounts.two_factor, which tells its
owner through `tell_owner`. Changes made for another user (administrator resets) are not
in this module.
"""

from __future__ import annotations

import logging
import smtplib

from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import Action
from audit.services import record

from .notices import notify
from .signals import credentials_changed

logger = logging.getLogger(__name__)


def change_own_password(request: HttpRequest, form: PasswordChangeForm):
    """Save the new password of a validated password-change form (it has checked the old
    password and the password rules). The current session stays signed in; the user's
    other sessions end, as Django ends every session whose password hash is stale."""
    user = form.user
    if not form.is_valid() or user.pk != request.user.pk:
        raise PermissionDenied
    with transaction.atomic():
        form.save()
        record(Action.PASSWORD_CHANGE, obj=user, detail={"changed_by": "self"})
        credentials_changed.send(
            sender=get_user_model(), user=user, reason="password_change", actor=user
        )
    update_session_auth_hash(request, user)
    tell_owner(
        user,
        topic="password_change",
        subject=_("パスワードが変更されました"),
        what=_("パスワードが変更されました。ほかの端末のログインとAPIトークンは無効になりました。"),
    )
    return user


def tell_owner(user, *, topic: str, subject: str, what: str) -> None:
    """E-mail the account's owner that a credential changed (accounts.notices, audited).

    Sent after the change is saved: a mail server that is down must not undo a change the
    user has made (nor hide the recovery codes shown once after it), so a failure to send
    is logged, without any content, and the change stands."""
    body = _(
        "%(username)s さん\n\n%(what)s\n日時: %(when)s\n\n"
        "心当たりがない場合は、すぐにシステム管理者に連絡してください。"
    ) % {
        "username": user.get_username(),
        "what": what,
        "when": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
    }
    try:
        notify([user], subject=subject, body=body, topic=topic)
    except (OSError, smtplib.SMTPException):
        logger.warning("The %s notice to user %s could not be sent.", topic, user.pk)
