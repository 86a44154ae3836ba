"""Encryption of personal data at rest (Personal Information Protection Law): Fernet
(AES-128-CBC with HMAC-SHA256) with the keys of FIELD_ENCRYPTION_KEY, or one derived from
SECRET_KEY when none is set."""

from __future__ import annotations

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


@cache
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"shaoxiang field encryption"
        ).derive(secret_key.encode())
        keys = (base64.urlsafe_b64encode(derived).decode(),)
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS), settings.SECRET_KEY)


def field_encrypt(text: str) -> str:
    """The token of ``text``; an empty text stays empty."""
    return _current().encrypt(text.encode()).decode() if text else ""


def field_decrypt(token: str) -> str:
    """The text of a token made by field_encrypt. Raises ValueError when no key opens it."""
    if not token:
        return ""
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("no encryption key opens this value") from None
