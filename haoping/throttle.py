"""Per-address limits on the pages anyone can call without a key (rating, QR, receipt, revisit).

django-ratelimit counts requests per client address in the default cache (local memory for one
process, Redis when REDIS_URL is set, so that every worker shares the count).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit import ALL
from django_ratelimit.decorators import ratelimit

# One budget per address for all public pages: a rating is a page, a post and a receipt.
GROUP = "haoping.public"


def public_rate(group: str, request: HttpRequest) -> str:
    # Read per request (settings are never read at import time), e.g. "60/m".
    return str(settings.HAOPING_PUBLIC_RATE)


def public_limit(*, block: bool = True) -> Callable[[Any], Any]:
    """Count the request; over the rate, raise Ratelimited (a 429 page), or with block=False set
    request.limited for a view that answers 429 itself (keeping what the applicant entered)."""
    return ratelimit(group=GROUP, key="ip", rate=public_rate, method=ALL, block=block)
