from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisclosureConfig(AppConfig):
    name = "haoping.disclosure"
    verbose_name = _("Public disclosure")
