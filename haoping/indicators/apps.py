from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    name = "haoping.indicators"
    verbose_name = _("Indicators")

    def ready(self) -> None:
        from haoping.indicators.tasks import update_soon
        from haoping.ops.rollups import rollups_updater

        rollups_updater(update_soon)
