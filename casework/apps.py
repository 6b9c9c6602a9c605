"""App configuration for casework."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaseworkConfig(AppConfig):
    name = "casework"
    verbose_name = _("相談支援")

    def ready(self) -> None:
        from . import crypto, lookups  # noqa: F401 (lookups registers `in_array`)

        # A missing or malformed key stops every entry point here, with a clear message,
        # instead of failing on the first sensitive read.
        crypto.check_configuration()
