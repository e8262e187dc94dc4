"""Secrets shared by both planes: Fernet encryption with the platform key, and ingest-key hashing.

The control plane encrypts destination credentials and signing secrets before they are stored or
published; only workers (which hold the same SWITCHYARD_PLATFORM_KEY) decrypt them, at send time.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from streams.exceptions import SwitchyardError

INGEST_KEY_PREFIX = "syk_"
_DEV_KEY_FILE = Path(__file__).resolve().parent.parent / ".local" / "platform.key"


class SecretError(SwitchyardError):
    """A secret cannot be encrypted or decrypted (missing or wrong platform key)."""


def platform_key() -> bytes:
    """SWITCHYARD_PLATFORM_KEY; in the dev environment only, a key generated once into .local/."""
    value = os.environ.get("SWITCHYARD_PLATFORM_KEY")
    if value:
        return value.encode()
    if os.environ.get("SWITCHYARD_ENV", "dev") != "dev":
        raise SecretError("SWITCHYARD_PLATFORM_KEY is not set (generate one with: python -m streams.secrets)")
    if not _DEV_KEY_FILE.exists():
        _DEV_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
        _DEV_KEY_FILE.write_bytes(Fernet.generate_key())
        _DEV_KEY_FILE.chmod(0o600)
    return _DEV_KEY_FILE.read_bytes().strip()


def encrypt(plain: str, key: bytes | None = None) -> str:
    if not plain:
        return ""
    return Fernet(key or platform_key()).encrypt(plain.encode()).decode()


def decrypt(token: str, key: bytes | None = None) -> str:
    if not token:
        return ""
    try:
        return Fernet(key or platform_key()).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretError(
            "a secret could not be decrypted: the platform key differs from the one that encrypted it"
        ) from exc


def new_ingest_key() -> str:
    return INGEST_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_ingest_key(key: str) -> str:
    # Keys are 256-bit random tokens, so a fast hash is enough (no password stretching needed).
    return hashlib.sha256(key.encode()).hexdigest()


def ingest_key_prefix(key: str) -> str:
    """What may be shown of a key after creation: enough to recognise it, useless to use it."""
    return key[: len(INGEST_KEY_PREFIX) + 6]


if __name__ == "__main__":
    print(Fernet.generate_key().decode())
