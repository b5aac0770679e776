"""Purpose-bound keys derived from the master key (settings.HAOPING_MASTER_KEY), once per process."""

from __future__ import annotations

import functools

from django.conf import settings

from haoping.lib.gm import KeyedSM3, derive_key, sm2_private_key, sm2_public_key, sm3


@functools.cache
def master_key() -> bytes:
    if settings.HAOPING_MASTER_KEY:
        return bytes.fromhex(settings.HAOPING_MASTER_KEY)
    # Demo fallback: stable across restarts, flagged by the system check in haoping.checks.
    return sm3(("demo-master:" + settings.SECRET_KEY).encode())


@functools.cache
def personal_data_key() -> bytes:
    return derive_key(master_key(), "personal-data-sm4")


@functools.cache
def index_key() -> bytes:
    return derive_key(master_key(), "lookup-index-sm3", 32)


@functools.cache
def link_key() -> bytes:
    return derive_key(master_key(), "rating-link-sm3", 32)


@functools.cache
def chain_key() -> bytes:
    return derive_key(master_key(), "evaluation-chain-sm3", 32)


@functools.cache
def chain_mac() -> KeyedSM3:
    return KeyedSM3(chain_key())


@functools.cache
def chain_signing_key() -> str:
    """SM2 key that signs the chain's checkpoints; its public half lets anyone check the anchors."""
    return sm2_private_key(derive_key(master_key(), "chain-checkpoint-sm2", 32))


@functools.cache
def chain_public_key() -> str:
    return sm2_public_key(chain_signing_key())
