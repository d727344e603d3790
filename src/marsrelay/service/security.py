"""Secrets: API tokens and web-page passwords.

- Tokens are 256 random bits (``secrets.token_urlsafe(32)``, 43 characters), shown once and
  stored only as their SHA-256 hex digest; a presented token is hashed and looked up by digest,
  and the digests are compared in constant time.
- Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["hash_password", "hash_token", "new_token", "same_digest", "verify_password"]

_HASHER = PasswordHasher()  # argon2id


def new_token() -> str:
    """A new API token: 256 bits from the OS's CSPRNG, URL-safe text."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def same_digest(a: str, b: str) -> bool:
    """Constant-time comparison of two digests."""
    return hmac.compare_digest(a.encode(), b.encode())


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (with its own random salt)."""
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches the argon2id ``password_hash``."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
