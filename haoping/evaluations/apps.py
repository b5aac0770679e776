from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationsConfig(AppConfig):
    name = "haoping.evaluations"
    verbose_name = _("Evaluations")

    def ready(self) -> None:
        from haoping.evaluations.services import evaluation_inherit
        from haoping.records.services import completion_follower

        # R5/R6: a batch or theme rated already covers a record that completes afterwards.
        completion_follower(evaluation_inherit)
