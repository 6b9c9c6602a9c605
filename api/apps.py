from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("外部連携API")

    def ready(self) -> None:
        from accounts.signals import credentials_changed

        from . import schema  # noqa: F401  (registers the schema extension)
        from .receivers import revoke_tokens_on_credential_change

        credentials_changed.connect(
            revoke_tokens_on_credential_change, dispatch_uid="api_revoke_tokens", weak=False
        )
