"""API token secrets: made from 256 random bits, kept only as a SHA-256 hash.

Tokens are not passwords: they carry 256 bits of entropy, so a fast hash
looked up by a unique index is as safe as a slow KDF and costs one index
probe per verification. The comparison of the stored hash with the presented
one is constant-time anyway, so the lookup leaks nothing useful.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from typing import Final

PREFIX: Final = "keel_"
#: 32 random bytes = 256 bits, base64url without padding = 43 characters.
TOKEN_BYTES: Final = 32
_SHAPE: Final = re.compile(r"^keel_[A-Za-z0-9_\-]{43}$")


def generate_token() -> str:
    """A new token secret: ``keel_`` and 256 random bits, URL-safe."""
    raw = secrets.token_bytes(TOKEN_BYTES)
    return PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def is_well_formed(token: str) -> bool:
    """Whether ``token`` has the shape :func:`generate_token` makes (checked before any lookup)."""
    return bool(_SHAPE.match(token))


def hash_token(token: str) -> str:
    """The lowercase hex SHA-256 of the token, as stored and looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_hash(stored: str, presented: str) -> bool:
    """Constant-time equality of two hex digests."""
    return hmac.compare_digest(stored.encode(), presented.encode())
