"""Row-level checks over Arrow columns: which rows break a rule, counted, with a sample.

Each function takes an Arrow array (or a table, for duplicate rows) and
returns :class:`Failures`: how many rows fail and the first few as (row index,
value), so a report can show *which* rows, not only how many. Nulls never
fail a value rule (nullability is its own check). Everything runs in Arrow
compute kernels and NumPy, one pass per rule, with no per-row Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: Rows listed per failing check; the count is always exact.
SAMPLE_ROWS = 10


@dataclass
class Failures:
    """How many rows fail a rule, and up to :data:`SAMPLE_ROWS` of them as (index, value)."""

    count: int = 0
    rows: list[tuple[int, Any]] = field(default_factory=list)


def _failures(values: pa.Array, mask: pa.Array, limit: int = SAMPLE_ROWS) -> Failures:
    """Failures where ``mask`` is true (nulls in the mask count as passing)."""
    filled = pc.fill_null(mask, False)
    count = int(pc.sum(filled).as_py() or 0)
    if count == 0:
        return Failures()
    index = np.flatnonzero(filled.to_numpy(zero_copy_only=False))[:limit]
    picked = values.take(pa.array(index)).to_pylist()
    return Failures(count=count, rows=[(int(i), _plain(v)) for i, v in zip(index, picked, strict=True)])


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def as_array(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous array (chunks combined), dictionaries decoded."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], type=column.type)
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    return column


def columnar(column: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    """The column as it is read, chunks kept (combining them copies it), dictionaries decoded.

    The checks take it as is: Arrow's kernels run over chunks, and a check
    combines chunks only on its failure path, to pick the failing rows.
    """
    if isinstance(column, pa.Array):
        column = pa.chunked_array([column], type=column.type)
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    return column


def null_count(column: pa.Array) -> int:
    """Nulls in a column (NaN counts as null for floats: both mean "no value")."""
    nulls: int = column.null_count
    if pa.types.is_floating(column.type):
        nulls += int(pc.sum(pc.fill_null(pc.is_nan(column), False)).as_py() or 0)
    return nulls


def out_of_range(column: pa.Array | pa.ChunkedArray, low: float | None, high: float | None) -> Failures:
    """Rows below ``low`` or above ``high`` (either bound may be absent)."""
    lowest, highest = (s.as_py() for s in pc.min_max(column).values())
    if lowest is None or ((low is None or lowest >= low) and (high is None or highest <= high)):
        return Failures()  # one pass over the column when nothing fails, the usual case
    column = as_array(column)
    mask = pa.array(np.zeros(len(column), dtype=bool))
    if low is not None:
        mask = pc.or_(mask, pc.less(column, low))
    if high is not None:
        mask = pc.or_(mask, pc.greater(column, high))
    return _failures(column, mask)


def outside_domain(column: pa.Array | pa.ChunkedArray, domain: Sequence[Any]) -> Failures:
    """Rows whose value is not one of ``domain``."""
    allowed = pa.array(list(domain), type=column.type) if domain else pa.array([], type=column.type)
    if pc.all(pc.is_in(pc.unique(column).drop_null(), value_set=allowed)).as_py() is not False:
        return Failures()  # the distinct values (few, for a categorical column) are all allowed
    column = as_array(column)
    mask = pc.invert(pc.is_in(column, value_set=allowed))
    return _failures(column, pc.and_(mask, pc.is_valid(column)))


def not_matching(column: pa.Array | pa.ChunkedArray, pattern: str) -> Failures:
    """Rows whose text does not match the regular expression ``pattern`` (RE2 syntax, whole value)."""
    column = as_array(column)
    anchored = pattern if pattern.startswith("^") else "^(?:" + pattern + ")$"
    mask = pc.invert(pc.match_substring_regex(column.cast(pa.string()), anchored))
    return _failures(column, mask)


def repeated(column: pa.Array | pa.ChunkedArray) -> Failures:
    """Rows whose value appeared earlier in the column (a uniqueness check's failures)."""
    if _increasing(column):
        return Failures()  # ids usually arrive in order: one comparison pass instead of a hash table
    if pc.count_distinct(column, mode="only_valid").as_py() == len(column) - column.null_count:
        return Failures()
    column = as_array(column)
    valid = pc.is_valid(column)
    counts = pc.value_counts(column.filter(valid))
    if len(counts) == len(column.filter(valid)):
        return Failures()
    values = counts.field("values")
    dup = values.filter(pc.greater(counts.field("counts"), 1))
    mask = pc.is_in(column, value_set=dup)
    # Every occurrence but the first fails: mark the first occurrence of each duplicated value as passing.
    first = pc.index_in(dup, value_set=column)
    arr = mask.to_numpy(zero_copy_only=False).copy()
    arr[np.asarray(first.to_numpy(zero_copy_only=False), dtype=np.int64)] = False
    return _failures(column, pa.array(arr))


def robust_outliers(column: pa.Array, z: float = 5.0) -> Failures:
    """Rows whose robust z-score |x - median| / (1.4826 * MAD) exceeds ``z``.

    The median and the MAD are not moved by the outliers themselves, so one
    wild value cannot hide another (a mean/std z-score can). A column whose
    MAD is zero (mostly one value) has no outliers by this rule.
    """
    values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    finite = np.isfinite(values)
    if not finite.any():
        return Failures()
    median = float(np.median(values[finite]))
    mad = float(np.median(np.abs(values[finite] - median))) * 1.4826
    if mad == 0.0:
        return Failures()
    with np.errstate(invalid="ignore"):
        mask = np.abs(values - median) / mad > z
    return _failures(column, pa.array(mask & finite))


def duplicate_rows(table: pa.Table) -> Failures:
    """Rows equal in every column to an earlier row; the sample's value is the row's first columns."""
    if table.num_rows == 0 or table.num_columns == 0:
        return Failures()
    from keel.stats.sketches import hash_rows

    hashes = np.asarray(hash_rows(list(table.columns), table.num_rows), dtype=np.uint64)
    _, first = np.unique(hashes, return_index=True)
    mask = np.ones(table.num_rows, dtype=bool)
    mask[first] = False
    count = int(mask.sum())
    if count == 0:
        return Failures()
    index = np.flatnonzero(mask)[:SAMPLE_ROWS]
    rows = table.take(pa.array(index)).to_pylist()
    return Failures(
        count=count,
        rows=[(int(i), {k: _plain(v) for k, v in r.items()}) for i, r in zip(index, rows, strict=True)],
    )


def _increasing(column: pa.Array | pa.ChunkedArray) -> bool:
    """Whether an integer column without nulls is strictly increasing (so every value is unique)."""
    if column.null_count or not pa.types.is_integer(column.type) or len(column) < 2:
        return False
    values = column.to_numpy()
    return bool((values[1:] > values[:-1]).all())


def missing(column: pa.Array | pa.ChunkedArray) -> Failures:
    """Rows with no value (null, or NaN in a float column)."""
    if column.null_count == 0 and not pa.types.is_floating(column.type):
        return Failures()
    mask = pc.is_null(column)
    if pa.types.is_floating(column.type):
        mask = pc.or_(mask, pc.fill_null(pc.is_nan(column), False))
    return _failures(column, mask)
