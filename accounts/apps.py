"""App configuration for accounts."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("組織・職員・権限")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .middleware import start_clock
        from .reauth import mark

        def _start_session_clock(sender, request, user, **kwargs) -> None:
            start_clock(request.session)
            mark(request.session)  # signing in is a recent authentication

        user_logged_in.connect(
            _start_session_clock, dispatch_uid="session_policy_clock", weak=False
        )
