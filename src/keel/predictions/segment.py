"""A segment's bytes: logged requests as one Parquet table, and back.

Columns: ``request_id`` (the request's id, ``id:row`` for each row of a
multi-row request), ``at`` (UTC, microseconds), ``model_version``,
``latency_ms``, one ``input.<name>`` per input column (or ``input`` for a
tensor, a list per row) and ``output`` (a value, or a list per row for a
model that answers several numbers per row). Columns the deployment marks
sensitive are written as a BLAKE2b digest of the value's text, so equal
values still group together while the value itself is never stored.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


@dataclass(frozen=True)
class Logged:
    """One answered request, as the server hands it over (no copy: arrays are never changed after)."""

    request_id: str
    at: float  # seconds since the epoch
    model_version: int
    latency_ms: float
    columns: dict[str, np.ndarray] | None  # a table's inputs by name
    tensor: np.ndarray | None  # or one tensor
    outputs: np.ndarray

    @property
    def rows(self) -> int:
        return int(self.outputs.shape[0]) if self.outputs.ndim else 1

    def row_ids(self) -> list[str]:
        n = self.rows
        return [self.request_id] if n == 1 else [f"{self.request_id}:{i}" for i in range(n)]


def _shape_key(entry: Logged) -> tuple[Any, ...]:
    names = tuple(entry.columns) if entry.columns is not None else None
    return names, entry.outputs.ndim > 1


def _digest(values: np.ndarray) -> pa.Array:
    return pa.array(
        [hashlib.blake2b(str(v).encode(), digest_size=16).hexdigest() for v in values.tolist()],
        type=pa.string(),
    )


def _values(arrays: Sequence[np.ndarray]) -> pa.Array:
    """Arrays of one column (or of 2-D rows) joined into one Arrow column."""
    joined = np.concatenate([a if a.ndim else a.reshape(1) for a in arrays])
    if joined.ndim > 1:
        return pa.array([row.tolist() for row in joined])
    if joined.dtype.kind == "O":
        return pa.array(joined.tolist())
    return pa.array(joined)


def to_tables(entries: Sequence[Logged], sensitive: frozenset[str] = frozenset()) -> list[pa.Table]:
    """The entries as Arrow tables, one per shape of input (several only when a swap changed the inputs)."""
    groups: dict[tuple[Any, ...], list[Logged]] = {}
    for entry in entries:
        groups.setdefault(_shape_key(entry), []).append(entry)
    tables = []
    for (names, _), group in groups.items():
        counts = [e.rows for e in group]
        data: dict[str, pa.Array] = {
            "request_id": pa.array([i for e in group for i in e.row_ids()], type=pa.string()),
            "at": pa.array(
                np.repeat(np.array([int(e.at * 1e6) for e in group], dtype="datetime64[us]"), counts),
                type=pa.timestamp("us", tz="UTC"),
            ),
            "model_version": pa.array(np.repeat([e.model_version for e in group], counts), type=pa.int32()),
            "latency_ms": pa.array(np.repeat([e.latency_ms for e in group], counts), type=pa.float64()),
        }
        if names is not None:
            for name in names:
                column = [e.columns[name] for e in group if e.columns is not None]
                data[f"input.{name}"] = (
                    _digest(np.concatenate(column)) if name in sensitive else _values(column)
                )
        else:
            data["input"] = _values([e.tensor for e in group if e.tensor is not None])
        data["output"] = _values([e.outputs for e in group])
        tables.append(pa.table(data))
    return tables


def encode(table: pa.Table) -> bytes:
    """The table as Parquet bytes (zstd; the object's digest covers exactly these bytes)."""
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def decode(data: bytes) -> pa.Table:
    """A segment's table from its Parquet bytes."""
    return pq.read_table(io.BytesIO(data))
