from __future__ import annotations

import time

from haoping.accounts.models import ApiClient
from haoping.accounts.services import key_digest

# A short per-process cache keeps the key lookup off the rating hot path; a revoked key stops
# working within this many seconds.
CACHE_SECONDS = 30.0
_cache: dict[str, tuple[float, ApiClient | None]] = {}


def api_client_for_key(key: str) -> ApiClient | None:
    digest = key_digest(key)
    now = time.monotonic()
    hit = _cache.get(digest)
    if hit and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    client = ApiClient.objects.select_related("region").filter(key_digest=digest, is_active=True).first()
    if len(_cache) > 10_000:
        _cache.clear()
    _cache[digest] = (now, client)
    return client


def cached_api_client(key: str) -> tuple[bool, ApiClient | None]:
    """(True, the key's client or None) if the cache knows the key, without a query; else (False, None)."""
    hit = _cache.get(key_digest(key))
    if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
        return True, hit[1]
    return False, None


def clear_cache() -> None:
    _cache.clear()
