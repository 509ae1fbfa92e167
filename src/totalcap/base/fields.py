"""Fields encrypted at rest.

HJ 212 sends a logger's access password in clear text, so the platform must be able to read it
back to check it: it is encrypted (Fernet, AES-128-CBC + HMAC-SHA256), not hashed. The keys are
``settings.FIELD_ENCRYPTION_KEYS``; the first one encrypts, all of them decrypt (key rotation).
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

PREFIX = "fernet:"


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    # Any secret string becomes a valid Fernet key by hashing it to 32 bytes.
    derived = [Fernet(base64.urlsafe_b64encode(hashlib.sha256(k.encode()).digest())) for k in keys]
    return MultiFernet(derived)


def encrypt(value: str) -> str:
    token = _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).encrypt(value.encode("utf-8"))
    return PREFIX + token.decode("ascii")


def decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        return stored
    try:
        return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:  # pragma: no cover - wrong keys configured
        raise ValueError("cannot decrypt field: the configured FIELD_ENCRYPTION_KEYS do not match") from exc


class EncryptedCharField(models.CharField):
    """A short secret stored encrypted; reads return the clear text."""

    encrypted = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 255)
        super().__init__(*args, **kwargs)

    def db_type(self, connection: Any) -> str:
        return "text"  # the ciphertext is longer than the clear text

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return None if value is None else decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))
