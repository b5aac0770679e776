from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RectificationConfig(AppConfig):
    name = "haoping.rectification"
    verbose_name = _("Bad-review handling")
