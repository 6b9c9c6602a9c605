"""App configuration for audit."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("監査証跡")

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the auth signal receivers)
