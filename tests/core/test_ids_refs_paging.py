"""Ids sort by time, references parse strictly, page tokens refuse tampering."""

from __future__ import annotations

import time

import pytest

from keel.core.errors import InvalidInput
from keel.core.ids import id_time_ms, is_id, new_id
from keel.core.paging import check_page_size, decode_token, encode_token
from keel.core.refs import Ref, parse_ref, ref


def test_ids_are_unique_and_sorted_within_one_millisecond() -> None:
    ids = [new_id() for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(is_id(i) for i in ids)


def test_id_encodes_its_creation_time() -> None:
    before = time.time_ns() // 1_000_000
    identifier = new_id()
    after = time.time_ns() // 1_000_000
    assert before <= id_time_ms(identifier) <= after


def test_refs_parse_and_format() -> None:
    digest = "ab" * 32
    assert parse_ref(f"artifact:{digest}") == Ref("artifact", digest)
    assert str(parse_ref("run:01J0000000000000000000000A")) == "run:01J0000000000000000000000A"
    assert ref("project", "abc") == "project:abc"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("run", "not a reference"),
        ("bogus:1", "unknown reference kind"),
        ("artifact:xyz", "64-hex-digit"),
        ("run:has space", "not a reference"),
    ],
)
def test_bad_refs_are_refused(text: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        parse_ref(text)


def test_page_tokens_round_trip_and_refuse_tampering() -> None:
    token = encode_token({"after": "churn"})
    assert decode_token(token, {"after"}) == {"after": "churn"}
    for bad in ("!!!", encode_token({"other": 1}), encode_token([1, 2]), token[:-3] + "xyz"):
        with pytest.raises(InvalidInput, match="page token"):
            decode_token(bad, {"after"})


def test_page_size_bounds() -> None:
    assert check_page_size(1) == 1
    for bad in (0, -1, 1001):
        with pytest.raises(InvalidInput, match="limit"):
            check_page_size(bad)


def test_token_position_checks_the_type() -> None:
    from keel.core.paging import token_position

    assert token_position(encode_token({"after": "churn"}), "after", str) == "churn"
    assert token_position(encode_token({"before": 7}), "before", int) == 7
    bad_cases: list[tuple[str, str, type[str] | type[int]]] = [
        (encode_token({"after": 3}), "after", str),
        (encode_token({"before": True}), "before", int),
        (encode_token({"other": "x"}), "after", str),
    ]
    for token, key, kind in bad_cases:
        with pytest.raises(InvalidInput, match="page token"):
            token_position(token, key, kind)
