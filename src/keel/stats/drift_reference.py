"""Reference statistics for drift: computed once from a reference table, stored as one blob, reused per check.

A drift check compares a window with the reference on *whole columns*
(exact tests), so what is kept is what those tests need and nothing is
recomputed per window: numeric features keep their finite values sorted
(KS and Wasserstein read them directly; sorting is the costly step of both),
their PSI bins and counts, and their spread; categorical features keep
their category counts. Each feature also keeps its row and null counts, for
the missing-values test.

:func:`encode_reference` writes everything as one ``.npz`` (NumPy's zip of
arrays, loaded with ``allow_pickle=False``, so reading a stored reference
never runs code) with the metadata as a JSON member; the blob's bytes are
deterministic for the same table, so the artifact store names it by content.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from keel.stats.schema import column_kind

FeatureKind = Literal["numeric", "categorical"]
Floats = npt.NDArray[np.float64]
FORMAT_VERSION: Final = 1
#: Bins of the PSI over a numeric feature: the reference's deciles.
PSI_BINS: Final = 10


@dataclass(frozen=True)
class NumericReference:
    """A numeric feature of the reference: its sorted finite values, PSI bins, and null count."""

    name: str
    values: Floats  # sorted ascending, finite
    rows: int
    nulls: int
    psi_edges: Floats
    psi_counts: npt.NDArray[np.int64]
    kind: FeatureKind = field(default="numeric", init=False)

    @property
    def std(self) -> float:
        return float(self.values.std(ddof=1)) if self.values.size > 1 else 0.0


@dataclass(frozen=True)
class CategoricalReference:
    """A categorical feature of the reference: its category counts and null count."""

    name: str
    counts: dict[str, int]
    rows: int
    nulls: int
    kind: FeatureKind = field(default="categorical", init=False)


ColumnReference = NumericReference | CategoricalReference


@dataclass(frozen=True)
class NumericSample:
    """A numeric feature of a window: its finite values sorted once (every test reuses them) and nulls."""

    values: Floats
    rows: int
    nulls: int


@dataclass(frozen=True)
class CategoricalSample:
    """A categorical feature of a window: its category counts and nulls."""

    counts: dict[str, int]
    rows: int
    nulls: int


ColumnSample = NumericSample | CategoricalSample


def default_kind(dtype: pa.DataType) -> FeatureKind | None:
    """Numbers are numeric; strings and booleans categorical; anything else (dates, blobs) is not tested."""
    kind = column_kind(dtype)
    if kind in ("integer", "float"):
        return "numeric"
    if kind in ("string", "boolean"):
        return "categorical"
    return None


def _floats(column: pa.ChunkedArray | pa.Array) -> tuple[Floats, int]:
    """Finite values as float64 and the count of missing ones (nulls, NaN and infinities count as missing)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if pat.is_dictionary(column.type):
        column = column.dictionary_decode()
    if pat.is_boolean(column.type):
        column = column.cast(pa.uint8())
    values = np.asarray(column.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    finite = values[np.isfinite(values)]
    return finite, int(len(values) - finite.size)


def _counts(column: pa.ChunkedArray | pa.Array) -> tuple[dict[str, int], int]:
    """Category counts (booleans as ``true``/``false``, as profiles write them) and the null count."""
    if isinstance(column, pa.ChunkedArray) and pat.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    counted = pc.value_counts(column.drop_null() if isinstance(column, pa.Array) else pc.drop_null(column))
    counts: dict[str, int] = {}
    for value, count in zip(
        counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True
    ):
        key = str(value).lower() if isinstance(value, bool) else str(value)
        counts[key] = counts.get(key, 0) + int(count)
    return counts, int(column.null_count)


def numeric_sample(column: pa.ChunkedArray | pa.Array) -> NumericSample:
    """A window's numeric feature, sorted once."""
    values, missing = _floats(column)
    return NumericSample(values=np.sort(values), rows=len(column), nulls=missing)


def categorical_sample(column: pa.ChunkedArray | pa.Array) -> CategoricalSample:
    """A window's categorical feature as counts."""
    counts, nulls = _counts(column)
    return CategoricalSample(counts=counts, rows=len(column), nulls=nulls)


def sample_of(column: pa.ChunkedArray | pa.Array, kind: FeatureKind) -> ColumnSample:
    """A window's feature as the tests of its kind take it."""
    return numeric_sample(column) if kind == "numeric" else categorical_sample(column)


def psi_bins(values: Floats) -> tuple[Floats, npt.NDArray[np.int64]]:
    """The reference's decile edges (repeats merged) and its counts in them; ``values`` sorted."""
    if values.size == 0:
        return np.array([0.0, 1.0]), np.zeros(1, dtype=np.int64)
    edges = np.unique(np.quantile(values, np.linspace(0.0, 1.0, PSI_BINS + 1)))
    if edges.size < 2:
        edges = np.array([edges[0] - 0.5, edges[0] + 0.5])
    return edges, bin_counts(values, edges)


def bin_counts(values: Floats, edges: Floats) -> npt.NDArray[np.int64]:
    """Counts of ``values`` in the bins ``edges`` makes (values outside fall in the outer bins)."""
    index = np.searchsorted(edges[1:-1], values, side="right")
    return np.bincount(index, minlength=len(edges) - 1).astype(np.int64)


def build_reference(
    table: pa.Table, features: Iterable[str], kinds: Mapping[str, FeatureKind] | None = None
) -> dict[str, ColumnReference]:
    """The reference statistics of ``features`` of ``table`` (a kind per feature from ``kinds`` or its type).

    Raises ValueError naming a feature the table lacks or whose type no drift
    test takes (the caller turns it into a clear input error).
    """
    kinds = dict(kinds or {})
    out: dict[str, ColumnReference] = {}
    for name in features:
        if name not in table.column_names:
            raise ValueError(f"the reference has no column {name!r} (it has {', '.join(table.column_names)})")
        column = table.column(name)
        kind = kinds.get(name) or default_kind(column.type)
        if kind is None:
            raise ValueError(
                f"column {name!r} is {column.type}; drift tests take numeric or categorical columns"
            )
        if kind == "numeric":
            if column_kind(column.type) not in ("integer", "float", "boolean"):
                raise ValueError(f"column {name!r} is {column.type}, not numbers; declare it categorical")
            sample = numeric_sample(column)
            edges, counts = psi_bins(sample.values)
            out[name] = NumericReference(name, sample.values, sample.rows, sample.nulls, edges, counts)
        else:
            cat = categorical_sample(column)
            out[name] = CategoricalReference(name, cat.counts, cat.rows, cat.nulls)
    return out


def encode_reference(references: Mapping[str, ColumnReference]) -> bytes:
    """One deterministic ``.npz`` blob holding every feature's statistics."""
    arrays: dict[str, Any] = {}
    meta: list[dict[str, Any]] = []
    for index, ref in enumerate(references.values()):
        entry: dict[str, Any] = {"name": ref.name, "kind": ref.kind, "rows": ref.rows, "nulls": ref.nulls}
        if isinstance(ref, NumericReference):
            arrays[f"v{index}"] = ref.values
            arrays[f"e{index}"] = ref.psi_edges
            arrays[f"c{index}"] = ref.psi_counts
            entry["key"] = index
        else:
            entry["counts"] = ref.counts
        meta.append(entry)
    header = json.dumps({"format": FORMAT_VERSION, "features": meta}, sort_keys=True).encode()
    arrays["meta"] = np.frombuffer(header, dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return _stable_zip(buffer.getvalue())


def _stable_zip(data: bytes) -> bytes:
    """The same archive with fixed member times, so equal statistics give equal bytes (and one digest)."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as target:
        for info in sorted(source.infolist(), key=lambda i: i.filename):
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


def decode_reference(blob: bytes) -> dict[str, ColumnReference]:
    """The statistics :func:`encode_reference` wrote. Raises ValueError for a blob of another format."""
    with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
        header = json.loads(archive["meta"].tobytes())
        if header.get("format") != FORMAT_VERSION:
            raise ValueError(
                f"reference statistics of format {header.get('format')}; this Keel reads {FORMAT_VERSION}"
            )
        out: dict[str, ColumnReference] = {}
        for entry in header["features"]:
            name = entry["name"]
            if entry["kind"] == "numeric":
                key = entry["key"]
                out[name] = NumericReference(
                    name,
                    np.asarray(archive[f"v{key}"], dtype=np.float64),
                    int(entry["rows"]),
                    int(entry["nulls"]),
                    np.asarray(archive[f"e{key}"], dtype=np.float64),
                    np.asarray(archive[f"c{key}"], dtype=np.int64),
                )
            else:
                counts = {str(k): int(v) for k, v in entry["counts"].items()}
                out[name] = CategoricalReference(name, counts, int(entry["rows"]), int(entry["nulls"]))
    return out
