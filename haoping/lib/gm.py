"""国密 primitives: SM3 digests and HMACs, SM4-GCM encryption, SM2 signatures. No Django here."""

from __future__ import annotations

import base64
import hmac as std_hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

# `cryptography` has SM3 and SM4 but no SM2; gmssl is the common pure-Python SM2.
from gmssl import sm2 as gmssl_sm2

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


class KeyedSM3:
    """HMAC-SM3 under one key, set up once and copied per message: the chain MACs thousands of
    rows a second, and the key schedule would otherwise be half the work."""

    def __init__(self, key: bytes) -> None:
        self._base = hmac.HMAC(key, hashes.SM3())

    def mac(self, data: bytes) -> bytes:
        mac = self._base.copy()
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


# SM2 (GB/T 32918) over the curve of GB/T 32918.5, with the SM3 digest and the default signer id.
SM2_ORDER = int(gmssl_sm2.default_ecc_table["n"], 16)


def sm2_private_key(seed: bytes) -> str:
    """A private key (hex) from 32 secret bytes, in the range [1, n-2] the standard requires."""
    return f"{int.from_bytes(seed, 'big') % (SM2_ORDER - 2) + 1:064x}"


def _sm2(private_key: str, public_key: str, mode: int = 0) -> gmssl_sm2.CryptSM2:
    """gmssl's SM2 object for a key pair. Its constructor drops a "04" prefix with `lstrip("04")`,
    which strips every leading 0 and 4 of a public key that starts with "04" (1 key in 256): such a
    key would sign and verify wrongly, so the key is set again as given (x‖y, 128 hex digits, or
    the 130 of the uncompressed form)."""
    crypt = gmssl_sm2.CryptSM2(public_key="", private_key=private_key, mode=mode)
    crypt.public_key = public_key[2:] if len(public_key) == 130 and public_key.startswith("04") else public_key
    return crypt


def sm2_public_key(private_key: str) -> str:
    """The public key (hex, x‖y) of a private key."""
    signer = _sm2(private_key, "")
    return str(signer._kg(int(private_key, 16), gmssl_sm2.default_ecc_table["g"]))


def sm2_sign(private_key: str, public_key: str, data: bytes) -> str:
    signer = _sm2(private_key, public_key)
    # gmssl draws its per-signature nonce from `random`; a predictable nonce reveals the key.
    nonce = f"{secrets.randbelow(SM2_ORDER - 1) + 1:064x}"
    return str(signer.sign_with_sm3(data, nonce))


def sm2_verify(public_key: str, data: bytes, signature: str) -> bool:
    verifier = _sm2("", public_key)
    try:
        return bool(verifier.verify_with_sm3(signature, data))
    except (ValueError, TypeError, IndexError):
        return False


# gmssl draws SM2 encryption's ephemeral key from `random` too, and takes no key from the caller:
# a predictable ephemeral key reveals the plaintext, so its draws come from `secrets` instead.
gmssl_sm2.func.random_hex = lambda length: secrets.token_hex((length + 1) // 2)[:length]


def sm2_encrypt(public_key: str, data: bytes) -> str:
    """SM2 public-key encryption (GB/T 32918.4), ciphertext C1‖C3‖C2 as hex, as the standard orders it."""
    cipher = _sm2("", public_key, mode=1)
    return bytes(cipher.encrypt(data)).hex()


def sm2_decrypt(private_key: str, ciphertext: str) -> bytes:
    """The plaintext of `sm2_encrypt`'s ciphertext, its C3 digest checked (gmssl computes it but
    does not compare it, so an altered ciphertext would decrypt to garbage unnoticed)."""
    cipher = _sm2(private_key, "", mode=1)
    width = 2 * cipher.para_len
    try:
        raw = bytes.fromhex(ciphertext)
        plain = cipher.decrypt(raw)
        if plain is None:
            raise DecryptionError("SM2 ciphertext failed its check")
        point = cipher._kg(int(private_key, 16), raw.hex()[:width])
    except (ValueError, TypeError, IndexError) as exc:
        raise DecryptionError("not an SM2 ciphertext for this key") from exc
    x2, y2 = bytes.fromhex(point[: cipher.para_len]), bytes.fromhex(point[cipher.para_len : width])
    if not constant_time_equal(sm3(x2 + bytes(plain) + y2), raw[width // 2 : width // 2 + 32]):
        raise DecryptionError("SM2 ciphertext failed its check")
    return bytes(plain)
