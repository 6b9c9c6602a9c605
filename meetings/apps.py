"""App configuration for meetings."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = _("会議")

    def ready(self) -> None:
        from . import receivers  # noqa: F401 (connects its answers to casework.signals)
