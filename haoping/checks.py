from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Warning, register


@register()
def master_key_set(app_configs: Any, **kwargs: Any) -> list[Warning]:
    if settings.HAOPING_MASTER_KEY:
        return []
    return [
        Warning(
            "HAOPING_MASTER_KEY is not set; personal data is encrypted under a demo key.",
            hint="Set HAOPING_MASTER_KEY to 64 hex digits in production.",
            id="haoping.W001",
        )
    ]
