"""Cursor pagination: a listing returns a page of items and an opaque next-page token.

The token is URL-safe base64 of a small JSON object (the sort key of the last
item seen). A token that does not decode to the expected shape is rejected as
InvalidInput rather than trusted.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from keel.core.errors import InvalidInput

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class Page(BaseModel, Generic[T]):
    """One page of a listing; pass ``next_token`` back to get the next one."""

    items: list[T]
    next_token: str | None = None


def encode_token(position: dict[str, Any]) -> str:
    """An opaque token for ``position``."""
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, keys: set[str]) -> dict[str, Any]:
    """Decode a token and check it holds exactly ``keys``; InvalidInput otherwise."""
    try:
        padded = token + "=" * (-len(token) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidInput("page token is not valid; start again without it") from None
    if not isinstance(position, dict) or set(position) != keys:
        raise InvalidInput("page token is not valid; start again without it")
    return position


def token_position(token: str, key: str, kind: type[str] | type[int]) -> Any:
    """The single value ``key`` of a page token, which must be a ``kind``; InvalidInput otherwise."""
    value = decode_token(token, {key})[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InvalidInput("page token is not valid; start again without it")
    return value


def check_page_size(limit: int) -> int:
    """Clamp-free check: a page size outside 1..MAX_PAGE_SIZE is an error."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE_SIZE}, got {limit}")
    return limit
