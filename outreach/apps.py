"""App configuration for outreach."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutreachConfig(AppConfig):
    name = "outreach"
    verbose_name = _("アウトリーチ・グループ支援")

    def ready(self) -> None:
        from . import receivers  # noqa: F401 (connects its answers to casework.signals)
