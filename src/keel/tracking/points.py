"""Packing metric points into chunks and back (format 1: three little-endian arrays).

A chunk is one key's points from one batch: int64 steps, int64 Unix-ms
timestamps and float64 values, ``count`` of each, back to back. Floats keep
NaN and infinities exactly (SQLite cannot store NaN in a REAL column). The
format number is stored beside each chunk so a later layout can coexist.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from typing import Any, Final

from keel.core.errors import KeelError

FORMAT: Final = 1


def group_by_key(
    points: Iterable[tuple[str, float, int, int]],
) -> dict[str, tuple[list[int], list[int], list[float]]]:
    """Split a batch's points by key, keeping their order."""
    groups: dict[str, tuple[list[int], list[int], list[float]]] = {}
    for key, value, step, timestamp in points:
        group = groups.get(key)
        if group is None:
            group = groups[key] = ([], [], [])
        group[0].append(step)
        group[1].append(timestamp)
        group[2].append(value)
    return groups


def pack(steps: Sequence[int], timestamps: Sequence[int], values: Sequence[float]) -> bytes:
    """The chunk bytes of one key's points."""
    n = len(steps)
    if n <= 64:  # a wide batch is many short chunks: struct is ~10x cheaper than numpy there
        return struct.pack(f"<{n}q{n}q{n}d", *steps, *timestamps, *values)
    import numpy as np  # loaded on the first batch, not when the server starts

    return (
        np.asarray(steps, dtype="<i8").tobytes()
        + np.asarray(timestamps, dtype="<i8").tobytes()
        + np.asarray(values, dtype="<f8").tobytes()
    )


def unpack(data: bytes, count: int, fmt: int) -> tuple[Any, Any, Any]:
    """(steps, timestamps, values) arrays of a chunk."""
    import numpy as np

    if fmt != FORMAT or len(data) != 24 * count:
        raise KeelError(
            f"metric chunk of format {fmt} with {len(data)} bytes for {count} points is unreadable"
        )
    steps = np.frombuffer(data, dtype="<i8", count=count)
    timestamps = np.frombuffer(data, dtype="<i8", count=count, offset=8 * count)
    values = np.frombuffer(data, dtype="<f8", count=count, offset=16 * count)
    return steps, timestamps, values


def merge(chunks: Iterable[tuple[bytes, int, int]]) -> list[tuple[int, int, float]]:
    """All points of several chunks as (step, timestamp, value), by step then timestamp (stable)."""
    import numpy as np

    parts = [unpack(data, count, fmt) for data, count, fmt in chunks]
    if not parts:
        return []
    steps = np.concatenate([p[0] for p in parts])
    timestamps = np.concatenate([p[1] for p in parts])
    values = np.concatenate([p[2] for p in parts])
    order = np.lexsort((timestamps, steps))
    return list(zip(steps[order].tolist(), timestamps[order].tolist(), values[order].tolist(), strict=True))
