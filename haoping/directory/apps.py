from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    name = "haoping.directory"
    verbose_name = _("Directory")

    def ready(self) -> None:
        from haoping import checks  # noqa: F401  (registers system checks)
        from haoping.directory import signals

        signals.connect()
