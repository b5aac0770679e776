from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "haoping.exchange"
    verbose_name = _("Exchange with the upper-level platform")
