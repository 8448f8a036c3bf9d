"""Source person keys kept encrypted, so that a recipient with the right may *reveal* one flagged person.

The monitor works on pseudonyms only. The door encrypts each person's source key (AES-256-GCM, a fresh
nonce each time, the pseudonym as associated data so a sealed key cannot be moved to another pseudonym)
and the identities topic holds only that. The key lives in a file outside Kafka; without it, nothing is
kept and nothing can be revealed.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class VaultKeyError(ValueError):
    """The key file does not hold 32 bytes (64 hex digits, or 32 raw bytes)."""


def key_from_bytes(data: bytes) -> bytes:
    text = data.strip()
    try:
        key = bytes.fromhex(text.decode("ascii")) if len(text) == 64 else data
    except (UnicodeDecodeError, ValueError):
        key = data
    if len(key) != 32:
        raise VaultKeyError("the reveal key must be 32 random bytes (e.g. `openssl rand -hex 32 > reveal.key`)")
    return key


class IdentityVault:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key_from_bytes(key))

    def seal(self, pseudonym: str, source_key: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, source_key.encode(), pseudonym.encode())

    def open(self, pseudonym: str, sealed: bytes) -> str | None:
        """The source key, or None if `sealed` was not sealed for this pseudonym with this key."""
        try:
            return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], pseudonym.encode()).decode()
        except (InvalidTag, ValueError):
            return None
