"""国密 primitives: SM3 digests and HMACs, SM4-GCM encryption. No Django here."""

from __future__ import annotations

import base64
import hmac as std_hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

NONCE_BYTES = 12
TAG_BYTES = 16
CIPHERTEXT_PREFIX = "sm4gcm1:"


class DecryptionError(ValueError):
    """A ciphertext that was altered or was made under another key."""


def sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize()


def constant_time_equal(a: bytes, b: bytes) -> bool:
    return std_hmac.compare_digest(a, b)


def derive_key(master: bytes, label: str, length: int = 16) -> bytes:
    """A sub-key per purpose, so that one leaked sub-key exposes nothing else."""
    return hmac_sm3(master, b"haoping/" + label.encode())[:length]


def sm4_encrypt(key: bytes, plaintext: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    body = encryptor.update(plaintext.encode()) + encryptor.finalize()
    return CIPHERTEXT_PREFIX + base64.b64encode(nonce + body + encryptor.tag).decode()


def sm4_decrypt(key: bytes, token: str) -> str:
    if not token.startswith(CIPHERTEXT_PREFIX):
        raise DecryptionError("not an SM4-GCM ciphertext")
    raw = base64.b64decode(token[len(CIPHERTEXT_PREFIX) :])
    nonce, body, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    try:
        return (decryptor.update(body) + decryptor.finalize()).decode()
    except InvalidTag as exc:
        raise DecryptionError("ciphertext failed authentication") from exc
