from __future__ import annotations

import hashlib
import secrets

from django.db import transaction

from haoping.accounts.models import ApiClient
from haoping.directory.models import Region

KEY_PREFIX = "hp_"


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_client_create(*, name: str, region: Region, role: str = ApiClient.Role.BUSINESS) -> tuple[ApiClient, str]:
    """Create a client and return it with its key, which is not stored and cannot be shown again.
    A business system's key (the default) decides nothing; see haoping.accounts.access."""
    if role not in ApiClient.Role.values:
        raise ValueError(f"unknown API client role {role!r}")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient.objects.create(
        name=name, region=region, role=role, key_digest=key_digest(key), key_prefix=key[:10]
    )
    return client, key
