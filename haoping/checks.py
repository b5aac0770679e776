from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Warning, register
from django.utils.translation import gettext as _


@register()
def master_key_set(app_configs: Any, **kwargs: Any) -> list[Warning]:
    # Reported by the system checks, which every management command and the development server run
    # once at start; `./scripts/demo` runs them once for all its commands.
    if settings.HAOPING_MASTER_KEY:
        return []
    return [
        Warning(
            _("HAOPING_MASTER_KEY is not set; personal data is encrypted under a demo key."),
            hint=_("Set HAOPING_MASTER_KEY to 64 hex digits in production."),
            id="haoping.W001",
        )
    ]
