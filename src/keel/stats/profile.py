"""Per-column profiles of a table, computed in one streaming pass over record batches.

:class:`Profiler` takes batches (from Parquet, CSV, JSON lines...) and keeps,
per column, counts, nulls, a distinct estimate, min/max, mean and standard
deviation, an exact histogram, category counts up to a cap, plus a uniform
row sample shared by all columns. Memory is bounded by the sample and the
category cap, never by the table. Quantiles come from the sample, so they
are exact while the table fits in it and a uniform-sample estimate beyond.

The resulting :class:`TableProfile` is plain pydantic data, so it is stored as
JSON beside a dataset version and reused by validation (expectations) and
monitoring (drift) without re-reading the data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from keel.stats.models import ColumnProfile, Histogram, Kind, Scalar, TableProfile
from keel.stats.sample import ReservoirSampler
from keel.stats.schema import column_kind
from keel.stats.sketches import HyperLogLog, StreamingHistogram, hash_array

DEFAULT_QUANTILES: tuple[float, ...] = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
_NUMERIC: frozenset[Kind] = frozenset({"integer", "float", "boolean"})
_CATEGORICAL: frozenset[Kind] = frozenset({"string", "boolean", "integer"})


def _plain(value: Any) -> Scalar:
    """An Arrow scalar's Python value as JSON-ready data (dates and times as ISO text)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return value[:64].hex()
    return str(value)


@dataclass
class _Column:
    """Running statistics of one column."""

    name: str
    dtype: pa.DataType
    kind: Kind
    category_cap: int
    bins: int
    count: int = 0
    nulls: int = 0
    low: Any = None
    high: Any = None
    n: int = 0
    mean: float = 0.0
    m2: float = 0.0
    hll: HyperLogLog = field(default_factory=HyperLogLog)
    histogram: StreamingHistogram | None = None
    categories: dict[str, int] | None = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind in ("integer", "float"):
            self.histogram = StreamingHistogram(self.bins)
        if self.kind not in _CATEGORICAL:
            self.categories = None

    def update(self, array: pa.Array) -> None:
        if pat.is_dictionary(array.type):
            array = array.dictionary_decode()
        nulls = array.null_count
        self.nulls += nulls
        self.count += len(array) - nulls
        if nulls == len(array):
            return
        if self.kind in ("integer", "float", "string", "temporal", "boolean"):
            self._min_max(array)
        self.hll.update(hash_array(array))
        if self.kind in _NUMERIC:
            self._moments(_floats(array))
        if self.categories is not None:
            self._count_categories(array)

    def _min_max(self, array: pa.Array) -> None:
        mm = pc.min_max(array)
        low, high = mm["min"].as_py(), mm["max"].as_py()
        if isinstance(low, float) and not np.isfinite(low):
            low = None
        if isinstance(high, float) and not np.isfinite(high):
            high = None
        if low is not None and (self.low is None or low < self.low):
            self.low = low
        if high is not None and (self.high is None or high > self.high):
            self.high = high

    def _moments(self, values: npt.NDArray[np.float64]) -> None:
        values = values[np.isfinite(values)]
        n_b = len(values)
        if not n_b:
            return
        mean_b = float(values.mean())
        m2_b = float(((values - mean_b) ** 2).sum())
        n = self.n + n_b
        delta = mean_b - self.mean
        self.mean += delta * n_b / n
        self.m2 += m2_b + delta * delta * self.n * n_b / n
        self.n = n
        if self.histogram is not None:
            self.histogram.update(values)

    def _count_categories(self, array: pa.Array) -> None:
        assert self.categories is not None
        counts = pc.value_counts(array.drop_null())
        values, frequencies = counts.field("values").to_pylist(), counts.field("counts").to_pylist()
        for value, frequency in zip(values, frequencies, strict=True):
            key = str(value).lower() if isinstance(value, bool) else str(value)
            self.categories[key] = self.categories.get(key, 0) + int(frequency)
        if len(self.categories) > self.category_cap:
            self.categories = None

    def result(self, sample: pa.Table, rows: int, quantiles: Sequence[float]) -> ColumnProfile:
        categories_truncated = self.kind in _CATEGORICAL and self.categories is None
        exact = self.categories is not None
        profile = ColumnProfile(
            name=self.name,
            type=str(self.dtype),
            kind=self.kind,
            count=self.count,
            nulls=self.nulls,
            distinct=len(self.categories) if self.categories is not None else self.hll.estimate(),
            distinct_exact=exact,
            min=_plain(self.low),
            max=_plain(self.high),
            categories=dict(sorted(self.categories.items(), key=lambda kv: (-kv[1], kv[0])))
            if self.categories is not None
            else None,
            categories_truncated=categories_truncated,
        )
        if self.kind in _NUMERIC and self.n:
            profile.mean = self.mean
            profile.std = float(np.sqrt(self.m2 / (self.n - 1))) if self.n > 1 else 0.0
            values = _floats(sample.column(self.name))
            values = values[np.isfinite(values)]
            if len(values):
                qs = np.quantile(values, list(quantiles))
                profile.quantiles = {_quantile_name(q): float(v) for q, v in zip(quantiles, qs, strict=True)}
                profile.quantiles_exact = sample.num_rows == rows
        if self.histogram is not None:
            edges, counts = self.histogram.result()
            if counts:
                profile.histogram = Histogram(edges=edges, counts=counts)
        return profile


def _quantile_name(q: float) -> str:
    text = f"{q * 100:.4f}".rstrip("0").rstrip(".")
    return "p" + text


def _floats(array: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.float64]:
    """Non-null values as float64 (booleans as 0/1)."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    if pat.is_dictionary(array.type):
        array = array.dictionary_decode()
    array = array.drop_null()
    if pat.is_boolean(array.type):
        array = array.cast(pa.uint8())
    return np.asarray(array.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


class Profiler:
    """Feed it record batches with :meth:`update`; :meth:`result` gives the profile, :meth:`sample` the rows."""

    def __init__(
        self,
        schema: pa.Schema,
        *,
        sample_size: int = 100_000,
        category_cap: int = 1000,
        bins: int = 32,
        quantiles: Sequence[float] = DEFAULT_QUANTILES,
        seed: int = 0,
    ) -> None:
        self.schema = schema
        self.quantiles = tuple(quantiles)
        self.rows = 0
        self._columns = [
            _Column(f.name, f.type, column_kind(f.type), category_cap=category_cap, bins=bins) for f in schema
        ]
        self._sampler = ReservoirSampler(schema, sample_size, seed=seed)

    def update(self, batch: pa.RecordBatch) -> None:
        """Add one batch (its schema must match the profiler's)."""
        if batch.schema.names != self.schema.names:
            raise ValueError(
                f"batch columns {batch.schema.names} differ from the table's {self.schema.names}"
            )
        self.rows += batch.num_rows
        for column, array in zip(self._columns, batch.columns, strict=True):
            column.update(array)
        self._sampler.update(batch)

    def sample(self) -> pa.Table:
        """The uniform row sample kept so far (all rows while the table is smaller than it)."""
        return self._sampler.result()

    def result(self) -> TableProfile:
        """The profile of everything seen so far."""
        sample = self.sample()
        return TableProfile(
            rows=self.rows,
            columns=[c.result(sample, self.rows, self.quantiles) for c in self._columns],
            sample_rows=sample.num_rows,
        )


def profile_batches(
    batches: Iterable[pa.RecordBatch], schema: pa.Schema, **options: Any
) -> tuple[TableProfile, pa.Table]:
    """Profile a stream of batches in one pass; returns the profile and the row sample."""
    profiler = Profiler(schema, **options)
    for batch in batches:
        profiler.update(batch)
    return profiler.result(), profiler.sample()


def profile_table(table: pa.Table, **options: Any) -> TableProfile:
    """Profile an in-memory table (a convenience over :func:`profile_batches`)."""
    profile, _ = profile_batches(table.to_batches(max_chunksize=65_536), table.schema, **options)
    return profile
