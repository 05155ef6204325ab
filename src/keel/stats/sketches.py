"""Small mergeable sketches over Arrow arrays, vectorised with NumPy.

- :func:`hash_array`: a deterministic 64-bit hash of every non-null value
  (the same value hashes the same in every process, unlike Python's ``hash``),
  so distinct estimates are reproducible.
- :class:`HyperLogLog`: distinct-count estimate in 4 KiB (p=12, about 1.6 %
  standard error), merged batch by batch.
- :class:`StreamingHistogram`: exact counts in equal-width bins over a range
  that doubles as values arrive outside it, so one pass suffices and no value
  is dropped or guessed.

Written here rather than taken from a sketch library because the versions on
offer update one Python object per value, which is far too slow for millions
of rows; these work on whole NumPy arrays.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

U64 = npt.NDArray[np.uint64]
_MAX_HASHED_BYTES = 256  # longer strings hash their first 256 bytes plus their length


def _mix(x: U64) -> U64:
    """SplitMix64's finaliser: spreads the bits of ``x`` (uint64, wraps modulo 2**64)."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * np.uint64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> np.uint64(27))
        x = x * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _hash_binary(array: pa.Array) -> U64:
    """Hash every value of a string/binary array from its offsets and data buffers."""
    array = array.cast(pa.large_binary()) if not pat.is_large_binary(array.type) else array
    _validity, offsets_buf, data_buf = array.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[array.offset : array.offset + len(array) + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(1, np.uint8)
    starts = offsets[:-1]
    lengths = offsets[1:] - starts
    h = _mix(lengths.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15))
    longest = min(int(lengths.max()) if len(lengths) else 0, _MAX_HASHED_BYTES)
    with np.errstate(over="ignore"):
        for j in range(longest):
            live = np.nonzero(lengths > j)[0]
            if not len(live):
                break
            byte = data[starts[live] + j].astype(np.uint64)
            h[live] = _mix(h[live] * np.uint64(0x100000001B3) + byte)
    return h


def hash_array(array: pa.Array | pa.ChunkedArray) -> U64:
    """A deterministic uint64 hash of each non-null value of ``array`` (nulls are dropped)."""
    if isinstance(array, pa.ChunkedArray):
        parts = [hash_array(chunk) for chunk in array.chunks]
        return np.concatenate(parts) if parts else np.zeros(0, np.uint64)
    if pat.is_dictionary(array.type):
        array = array.dictionary_decode()
    array = array.drop_null()
    dtype = array.type
    if (
        pat.is_string(dtype)
        or pat.is_large_string(dtype)
        or pat.is_binary(dtype)
        or pat.is_large_binary(dtype)
    ):
        return _hash_binary(array)
    if pat.is_string_view(dtype):
        return _hash_binary(array.cast(pa.large_string()))
    if pat.is_floating(dtype) or pat.is_decimal(dtype):
        values = np.ascontiguousarray(array.cast(pa.float64()).to_numpy(zero_copy_only=False))
        values = values + 0.0  # -0.0 and 0.0 hash alike
        return _mix(values.view(np.uint64).copy())
    if pat.is_boolean(dtype):
        return _mix(np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.uint64))
    if pat.is_integer(dtype) or pat.is_temporal(dtype):
        ints = array.cast(pa.int64()) if not pat.is_temporal(dtype) else array.view(_int_view(dtype))
        values = np.asarray(ints.to_numpy(zero_copy_only=False), dtype=np.int64)
        return _mix(values.view(np.uint64).copy())
    # Anything else (nested, fixed-size binary...): hash its text form.
    return _hash_binary(pc.cast(array, pa.large_string()) if _castable(array) else _as_text(array))


def _int_view(dtype: pa.DataType) -> pa.DataType:
    return pa.int32() if dtype.bit_width == 32 else pa.int64()


def _castable(array: pa.Array) -> bool:
    try:
        pc.cast(array[:1], pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def _as_text(array: pa.Array) -> pa.Array:
    return pa.array([repr(v) for v in array.to_pylist()], type=pa.large_string())


class HyperLogLog:
    """Distinct-count estimate over 64-bit hashes; ``2**p`` one-byte registers."""

    def __init__(self, p: int = 12) -> None:
        self.p = p
        self.registers = np.zeros(1 << p, dtype=np.uint8)

    def update(self, hashes: U64) -> None:
        """Add hashed values (see :func:`hash_array`)."""
        if not len(hashes):
            return
        index = (hashes >> np.uint64(64 - self.p)).astype(np.int64)
        rest = (hashes << np.uint64(self.p)) | np.uint64(1 << (self.p - 1))
        # rank = leading zeros of ``rest`` + 1, from the position of the highest set bit.
        # (float rounding can push a value just under 2**k up to 2**k; the clip keeps rank >= 1).
        rank = np.clip(64 - np.floor(np.log2(rest.astype(np.float64))).astype(np.int64), 1, 64)
        rank = rank.astype(np.uint8)
        np.maximum.at(self.registers, index, rank)

    def merge(self, other: HyperLogLog) -> None:
        np.maximum(self.registers, other.registers, out=self.registers)

    def estimate(self) -> int:
        """The estimated number of distinct values (linear counting for small sets)."""
        m = float(len(self.registers))
        alpha = 0.7213 / (1 + 1.079 / m)
        raw = alpha * m * m / float(np.sum(np.power(2.0, -self.registers.astype(np.float64))))
        zeros = int(np.count_nonzero(self.registers == 0))
        if raw <= 2.5 * m and zeros:
            return round(m * float(np.log(m / zeros)))
        return round(raw)


class StreamingHistogram:
    """Exact counts in ``bins`` equal-width bins whose range doubles to take new values."""

    def __init__(self, bins: int = 32) -> None:
        if bins < 2 or bins % 2:
            raise ValueError("bins must be an even number >= 2")
        self.bins = bins
        self.lo: float | None = None
        self.width = 0.0
        self.counts = np.zeros(bins, dtype=np.int64)

    def update(self, values: npt.NDArray[np.float64]) -> None:
        """Count finite float values (NaN and infinities are skipped)."""
        values = values[np.isfinite(values)]
        if not len(values):
            return
        vmin, vmax = float(values.min()), float(values.max())
        if self.lo is None:
            self.lo = vmin
            span = vmax - vmin
            self.width = span / self.bins * 1.000001 if span > 0 else max(abs(vmin) * 1e-9, 1e-12)
        while vmin < self.lo:
            self._grow(left=True)
        while vmax >= self.lo + self.width * self.bins:
            self._grow(left=False)
        index = np.minimum(((values - self.lo) / self.width).astype(np.int64), self.bins - 1)
        self.counts += np.bincount(np.maximum(index, 0), minlength=self.bins)

    def _grow(self, *, left: bool) -> None:
        assert self.lo is not None
        merged = self.counts.reshape(-1, 2).sum(axis=1)
        half = self.bins // 2
        counts = np.zeros(self.bins, dtype=np.int64)
        if left:
            counts[half:] = merged
            self.lo -= self.width * self.bins
        else:
            counts[:half] = merged
        self.counts = counts
        self.width *= 2

    def result(self) -> tuple[list[float], list[int]]:
        """Bin edges (``len(counts) + 1``) and counts, empty bins at either end trimmed."""
        if self.lo is None:
            return [], []
        nonzero = np.nonzero(self.counts)[0]
        first, last = int(nonzero[0]), int(nonzero[-1])
        edges = [self.lo + self.width * i for i in range(first, last + 2)]
        return edges, [int(c) for c in self.counts[first : last + 1]]


_NULL_HASH = np.uint64(0x6A09E667F3BCC908)


def hash_column(array: pa.Array | pa.ChunkedArray) -> U64:
    """A uint64 hash for every row of ``array``, nulls included (they all hash alike)."""
    if isinstance(array, pa.ChunkedArray):
        parts = [hash_column(chunk) for chunk in array.chunks]
        return np.concatenate(parts) if parts else np.zeros(0, np.uint64)
    out = np.full(len(array), _NULL_HASH, dtype=np.uint64)
    if array.null_count == len(array):
        return out
    if array.null_count:
        valid = np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        out[valid] = hash_array(array)
    else:
        out[:] = hash_array(array)
    return out


def hash_rows(columns: list[pa.Array | pa.ChunkedArray], rows: int) -> U64:
    """A uint64 hash of each row over ``columns`` (order matters), for row diffs and bucketing."""
    h = np.full(rows, np.uint64(0xCBF29CE484222325), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in columns:
            h = _mix(h * np.uint64(0x100000001B3) + hash_column(column))
    return h
