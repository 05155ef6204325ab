"""Token secrets: 256 random bits, a fixed shape, stored only as SHA-256."""

from __future__ import annotations

import base64
import hashlib

import pytest

from keel.auth.durations import parse_duration
from keel.auth.tokens import generate_token, hash_token, is_well_formed, same_hash
from keel.core.errors import InvalidInput


def test_token_carries_256_random_bits_and_is_unique() -> None:
    tokens = {generate_token() for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        assert token.startswith("keel_") and is_well_formed(token)
        raw = base64.urlsafe_b64decode(token.removeprefix("keel_") + "=")
        assert len(raw) * 8 == 256


def test_hash_is_sha256_hex_and_compares_exactly() -> None:
    token = generate_token()
    assert hash_token(token) == hashlib.sha256(token.encode()).hexdigest()
    assert same_hash(hash_token(token), hash_token(token))
    assert not same_hash(hash_token(token), hash_token(generate_token()))


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "keel_",
        "keel_short",
        "Bearer keel_x",
        "keel_" + "a" * 42,
        "keel_" + "a" * 44,
        "xxxx_" + "a" * 43,
        "keel_" + "!" * 43,
    ],
)
def test_malformed_tokens_are_recognised(bad: str) -> None:
    assert not is_well_formed(bad)


def test_durations() -> None:
    assert parse_duration("30d").days == 30
    assert parse_duration("12h").total_seconds() == 12 * 3600
    assert parse_duration("2w").days == 14
    for bad in ("30", "d", "-1d", "0d", "3y", "1.5d", "99999999d"):
        with pytest.raises(InvalidInput, match="expires"):
            parse_duration(bad, what="expires")
