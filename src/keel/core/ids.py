"""Time-sortable identifiers.

A 26-character ULID-style string: 48 bits of milliseconds then 80 random bits,
Crockford base32, so ids sort by creation time in every database and read well
in a terminal. Written here (a dozen lines) rather than taken from a package
because the standard library gains ``uuid7`` only in 3.14 and we need
monotonicity within one millisecond, which we get by incrementing the random
part.
"""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_lock = threading.Lock()
_last_ms = -1
_last_rand = 0


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id() -> str:
    """A new id, greater than every id this process made before it."""
    global _last_ms, _last_rand
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            ms = _last_ms
            rand = (_last_rand + 1) & ((1 << 80) - 1)
        else:
            rand = int.from_bytes(os.urandom(10), "big")
        _last_ms, _last_rand = ms, rand
    return _encode(ms, 10) + _encode(rand, 16)


def id_time_ms(identifier: str) -> int:
    """The creation time, in Unix milliseconds, encoded in an id."""
    value = 0
    for ch in identifier[:10].upper():
        value = value * 32 + _ALPHABET.index(ch)
    return value


def is_id(text: str) -> bool:
    """Whether ``text`` is shaped like an id this module makes."""
    return len(text) == 26 and all(c in _ALPHABET for c in text.upper())
