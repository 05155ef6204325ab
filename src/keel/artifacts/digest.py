"""Digests: the lowercase hex BLAKE3 of an object's raw bytes, and checks on digests users type.

Every digest that enters the store from outside (a CLI argument, a REST path,
a tree manifest) goes through :func:`check_digest`, so a malformed one fails
with a message naming it instead of turning into a strange path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

import blake3

from keel.core.errors import InvalidInput

#: Bytes read per step when hashing or copying: big enough to amortise calls, small enough to stay constant.
CHUNK: Final = 1 << 20
_DIGEST: Final = re.compile(r"^[0-9a-f]{64}$")


def new_hasher() -> Any:
    """A fresh incremental BLAKE3 hasher (single-threaded; callers overlap work themselves)."""
    return blake3.blake3()


def hash_bytes(data: bytes | bytearray | memoryview) -> str:
    """The digest of ``data``."""
    return str(blake3.blake3(data).hexdigest())


def check_digest(value: str) -> str:
    """``value`` if it is 64 lowercase hex characters; InvalidInput naming it otherwise."""
    if not isinstance(value, str) or not _DIGEST.match(value):
        shown = value if isinstance(value, str) and len(value) <= 80 else f"{str(value)[:77]}..."
        raise InvalidInput(
            f"not a BLAKE3 digest: {shown!r} (expected 64 lowercase hex characters)",
            hint="digests are printed by `keel artifacts put`",
        )
    return value


def check_digests(values: Iterable[str]) -> list[str]:
    """Every digest checked, order kept, duplicates dropped."""
    return list(dict.fromkeys(check_digest(v) for v in values))
