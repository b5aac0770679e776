"""Model fields for personal data: SM4-encrypted at rest, decrypted only in memory."""

from __future__ import annotations

from typing import Any

from django.db import models

from haoping import keys
from haoping.lib.gm import hmac_sm3, sm3, sm4_decrypt, sm4_encrypt
from haoping.lib.masking import mask_text


class EncryptedTextField(models.TextField):
    """Stores `sm4gcm1:<base64 nonce|ciphertext|tag>`; empty stays empty.

    Encrypted values cannot be searched; store a `lookup_digest()` beside them for matching.
    """

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if not value:
            return value
        return sm4_decrypt(keys.personal_data_key(), value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if not value:
            return value
        return sm4_encrypt(keys.personal_data_key(), value)


def lookup_digest(kind: str, value: str) -> str:
    """Keyed SM3 of a normalised identifier, for matching without clear text (R15)."""
    if not value:
        return ""
    normalised = "".join(value.split()).upper()
    return hmac_sm3(keys.index_key(), f"{kind}:{normalised}".encode()).hex()


def cert_key(id_number: str) -> str:
    """The ID number as the national platform's certKey: its SM3 hash (upper-case ID, no spaces),
    so that the number never goes up in clear."""
    normalised = "".join(id_number.split()).upper()
    return sm3(normalised.encode()).hex() if normalised else ""


def cert_digest(cert: str) -> str:
    """R15 across systems: the keyed digest of a certKey, the one identity that an evaluation
    received from another 好差评 system carries; an unkeyed hash of an ID number is never stored."""
    return lookup_digest("certkey", cert) if cert else ""


def seal_free_text(text: str) -> tuple[str, str]:
    """Free text as it is stored: the readable column with phone and ID numbers masked, so that
    every screen, export, analysis and API answer starts from masked text, and the original beside
    it in an `EncryptedTextField` only when masking changed something (most texts hold none)."""
    masked = mask_text(text)
    return (text, "") if masked == text else (masked, text)
