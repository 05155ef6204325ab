"""Statistics over Arrow data (L1, pure: no storage, no I/O beyond what it is handed).

The map:

- :func:`infer_schema` / :class:`ColumnSchema`: what each column is (name,
  Arrow type, coarse kind, nullability); :func:`diff_schemas` compares two.
- :class:`Profiler` / :func:`profile_batches`: one streaming pass over record
  batches gives a :class:`TableProfile` (per column: count, nulls, distinct
  estimate, min/max, mean/std, quantiles, exact histogram, category counts up
  to a cap) and a uniform row sample (:class:`ReservoirSampler`).
- :func:`compare_profiles`: per-column statistic deltas between two profiles.

``keel.datasets`` profiles every table version with it; validation and drift
monitoring reuse the stored profiles and samples. The records
(:mod:`keel.stats.models`) import without NumPy or Arrow; everything else loads
on first use (PEP 562), so reading a stored profile stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from keel.core.lazy import lazy_getattr

__all__ = [
    "DEFAULT_QUANTILES",
    "ColumnDelta",
    "ColumnProfile",
    "ColumnSchema",
    "Histogram",
    "HyperLogLog",
    "Kind",
    "Profiler",
    "ReservoirSampler",
    "SchemaChange",
    "StatDelta",
    "StreamingHistogram",
    "TableProfile",
    "column_kind",
    "compare_columns",
    "compare_profiles",
    "diff_schemas",
    "hash_array",
    "hash_rows",
    "infer_schema",
    "profile_batches",
    "profile_table",
]

_LAZY = {
    "DEFAULT_QUANTILES": "keel.stats.profile",
    "ColumnDelta": "keel.stats.models",
    "ColumnProfile": "keel.stats.models",
    "ColumnSchema": "keel.stats.models",
    "Histogram": "keel.stats.models",
    "HyperLogLog": "keel.stats.sketches",
    "Kind": "keel.stats.models",
    "Profiler": "keel.stats.profile",
    "ReservoirSampler": "keel.stats.sample",
    "SchemaChange": "keel.stats.models",
    "StatDelta": "keel.stats.models",
    "StreamingHistogram": "keel.stats.sketches",
    "TableProfile": "keel.stats.models",
    "column_kind": "keel.stats.schema",
    "compare_columns": "keel.stats.compare",
    "compare_profiles": "keel.stats.compare",
    "diff_schemas": "keel.stats.schema",
    "hash_array": "keel.stats.sketches",
    "hash_rows": "keel.stats.sketches",
    "infer_schema": "keel.stats.schema",
    "profile_batches": "keel.stats.profile",
    "profile_table": "keel.stats.profile",
}

if TYPE_CHECKING:
    from keel.stats.compare import compare_columns, compare_profiles
    from keel.stats.models import (
        ColumnDelta,
        ColumnProfile,
        ColumnSchema,
        Histogram,
        Kind,
        SchemaChange,
        StatDelta,
        TableProfile,
    )
    from keel.stats.profile import DEFAULT_QUANTILES, Profiler, profile_batches, profile_table
    from keel.stats.sample import ReservoirSampler
    from keel.stats.schema import column_kind, diff_schemas, infer_schema
    from keel.stats.sketches import HyperLogLog, StreamingHistogram, hash_array, hash_rows


__getattr__ = lazy_getattr("keel.stats", _LAZY, globals())


def __dir__() -> list[str]:
    return sorted(__all__)
