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


@register()
def sms_texts_fit(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """Every SMS template, with its longest values, this site's links and the configured
    signature, within HAOPING_SMS_MAX_SEGMENTS parts (region signatures are checked when saved)."""
    from haoping.rectification.sms import TEMPLATES, signature_problem, sms_segments, sms_signature

    signature = sms_signature(None)
    problem = signature_problem(signature)
    if problem:
        return [Warning(_("HAOPING_SMS_SIGNATURE: %(problem)s") % {"problem": problem}, id="haoping.W002")]
    limit = settings.HAOPING_SMS_MAX_SEGMENTS
    found = []
    for template in TEMPLATES:
        parts = sms_segments(template.longest(signature=signature))
        if parts > limit:
            found.append(
                Warning(
                    _("the SMS text “%(template)s” may need %(n)d parts, more than HAOPING_SMS_MAX_SEGMENTS (%(max)d)")
                    % {"template": template.label, "n": parts, "max": limit},
                    hint=_("Shorten SITE_URL or the signature, or allow more parts."),
                    id="haoping.W002",
                )
            )
    return found
