from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PadsConfig(AppConfig):
    name = "haoping.pads"
    verbose_name = _("Window pads")

    def ready(self) -> None:
        from haoping.pads.push import windows_changed_on_commit
        from haoping.records.services import slots_opened_follower

        # A service registered at a window reaches the pads bound to it (push.py).
        slots_opened_follower(windows_changed_on_commit)
