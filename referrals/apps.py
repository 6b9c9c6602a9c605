"""App configuration for referrals."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("紹介・移管")

    def ready(self) -> None:
        from . import receivers  # noqa: F401 (connects its answers to casework.signals)
