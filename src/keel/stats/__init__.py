"""Statistics over Arrow data (L1, pure: no storage, no I/O beyond what it is handed).

The map:

- :func:`infer_schema` / :class:`ColumnSchema`: what each column is (name,
  Arrow type, coarse kind, nullability); :func:`diff_schemas` compares two.
- :class:`Profiler` / :func:`profile_batches`: one streaming pass over record
  batches gives a :class:`TableProfile` (per column: count, nulls, distinct
  estimate, min/max, mean/std, quantiles, exact histogram, category counts up
  to a cap) and a uniform row sample (:class:`ReservoirSampler`).
- :func:`compare_profiles`: per-column statistic deltas between two profiles.

``keel.data`` profiles every table version with it; validation and drift
monitoring reuse the stored profiles and samples.
"""

from keel.stats.compare import ColumnDelta, StatDelta, compare_columns, compare_profiles
from keel.stats.profile import (
    DEFAULT_QUANTILES,
    ColumnProfile,
    Histogram,
    Profiler,
    TableProfile,
    profile_batches,
    profile_table,
)
from keel.stats.sample import ReservoirSampler
from keel.stats.schema import ColumnSchema, Kind, SchemaChange, column_kind, diff_schemas, infer_schema
from keel.stats.sketches import HyperLogLog, StreamingHistogram, hash_array

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
    "infer_schema",
    "profile_batches",
    "profile_table",
]
