from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RectificationConfig(AppConfig):
    name = "haoping.rectification"
    verbose_name = _("Bad-review handling")

    def ready(self) -> None:
        from haoping.evaluations.services import bad_rating_case_opener
        from haoping.rectification.services import case_open

        # R12: a bad rating opens its case here, in the rating's own transaction.
        bad_rating_case_opener(case_open)
