"""Packed metric chunks: exact round trip (NaN and infinities too), merge order, unreadable chunks refused."""

from __future__ import annotations

import math

import pytest

from keel.core.errors import KeelError
from keel.tracking.points import FORMAT, group_by_key, merge, pack, unpack


def test_pack_unpack_is_exact() -> None:
    values = [0.1, math.nan, math.inf, -math.inf, -0.0, 1e308]
    data = pack([0, 1, 2, 3, 4, 2**40], [10, 11, 12, 13, 14, 15], values)
    assert len(data) == 24 * 6
    steps, timestamps, back = unpack(data, 6, FORMAT)
    assert steps.tolist() == [0, 1, 2, 3, 4, 2**40] and timestamps.tolist()[0] == 10
    assert back.tolist()[0] == 0.1 and math.isnan(back[1]) and back[2] == math.inf and back[3] == -math.inf


def test_merge_orders_by_step_then_timestamp_across_chunks() -> None:
    a = pack([0, 2], [5, 5], [1.0, 3.0])
    b = pack([1, 2], [6, 4], [2.0, 2.5])
    assert merge([(a, 2, FORMAT), (b, 2, FORMAT)]) == [(0, 5, 1.0), (1, 6, 2.0), (2, 4, 2.5), (2, 5, 3.0)]
    assert merge([]) == []


def test_group_by_key_keeps_order() -> None:
    groups = group_by_key([("a", 1.0, 0, 1), ("b", 2.0, 0, 1), ("a", 3.0, 1, 2)])
    assert groups == {"a": ([0, 1], [1, 2], [1.0, 3.0]), "b": ([0], [1], [2.0])}


def test_unreadable_chunk_is_refused() -> None:
    with pytest.raises(KeelError, match="unreadable"):
        unpack(b"\x00" * 23, 1, FORMAT)
    with pytest.raises(KeelError, match="format 9"):
        unpack(b"\x00" * 24, 1, 9)
