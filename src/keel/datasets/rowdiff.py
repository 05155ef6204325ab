"""Keyed row diff of two tables, streaming, in bounded memory.

Both tables are read batch by batch. For every row we keep only its key
columns, a 64-bit hash of the other columns and its row number, written to
one of :data:`BUCKETS` temporary Arrow files chosen by the key's hash. Each
bucket pair is then joined on the key alone (a few hundred thousand rows even
for tens of millions), which gives rows added, removed and changed. Examples
of changed rows are read back in a last pass that filters on their keys.
Peak memory is one batch plus one bucket, whatever the table size.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from keel.core.errors import InvalidInput
from keel.datasets.schemas import RowChange, RowDiff
from keel.stats.sketches import hash_rows

BUCKETS: Final = 32
Batches = Callable[[], Iterator[pa.RecordBatch]]


def _partition(batches: Batches, key: list[str], folder: Path, side: str) -> tuple[int, pa.Schema | None]:
    """Write each row's key and hash to its bucket's file; (rows, schema of the files), None if no batch came."""
    writers: dict[int, pa.ipc.RecordBatchFileWriter] = {}
    rows = 0
    schema: pa.Schema | None = None
    try:
        for batch in batches():
            n = batch.num_rows
            key_table = pa.table({k: batch.column(k) for k in key})
            others = sorted(c for c in batch.schema.names if c not in key)
            row_hash = hash_rows([batch.column(c) for c in others], n)
            bucket = hash_rows(list(key_table.columns), n) % np.uint64(BUCKETS)
            part = key_table.append_column("__hash", pa.array(row_hash))
            schema = part.schema
            rows += n
            order = np.argsort(bucket, kind="stable")
            sorted_buckets = bucket[order]
            bounds = np.searchsorted(sorted_buckets, np.arange(BUCKETS + 1, dtype=np.uint64))
            taken = part.take(pa.array(order))
            for b in range(BUCKETS):
                lo, hi = int(bounds[b]), int(bounds[b + 1])
                if lo == hi:
                    continue
                writer = writers.get(b)
                if writer is None:
                    writer = writers[b] = pa.ipc.new_file(folder / f"{side}-{b}.arrow", part.schema)
                writer.write_table(taken.slice(lo, hi - lo))
    finally:
        for writer in writers.values():
            writer.close()
    return rows, schema


def _common_schema(
    a: pa.Schema | None, b: pa.Schema | None, key: list[str], labels: tuple[str, str]
) -> pa.Schema:
    """The key types both sides are joined as: the wider of each (int32 and int64 join as int64).

    A side with no batch at all takes the other's. Integer widths and string
    kinds hash alike, so both sides' rows are already in the same buckets.
    InvalidInput when a key column changed kind (a number became text).
    """
    assert a is not None and b is not None
    try:
        return pa.unify_schemas([a, b], promote_options="permissive")
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        changed = [k for k in key if not a.field(k).type.equals(b.field(k).type)]
        raise InvalidInput(
            f"key {', '.join(changed)} is {', '.join(str(a.field(k).type) for k in changed)} in {labels[0]} "
            f"but {', '.join(str(b.field(k).type) for k in changed)} in {labels[1]}: rows cannot be matched",
            hint="diff by a key whose type did not change (--key)",
        ) from None


def _bucket(folder: Path, side: str, b: int, schema: pa.Schema) -> pa.Table:
    """One side's rows of bucket ``b``, with its key columns as ``schema`` types them."""
    path = folder / f"{side}-{b}.arrow"
    if not path.exists():
        return schema.empty_table()
    with pa.memory_map(str(path)) as source:
        table = pa.ipc.open_file(source).read_all()
    return table if table.schema.equals(schema) else table.cast(schema)


def _check_unique(table: pa.Table, key: list[str], label: str) -> None:
    if table.num_rows == 0:
        return
    counts = table.group_by(key).aggregate([(key[0], "count")])
    dup = counts.filter(pc.greater(counts.column(f"{key[0]}_count"), 1))
    if dup.num_rows:
        example = {k: dup.column(k)[0].as_py() for k in key}
        raise InvalidInput(
            f"key {', '.join(key)} is not unique in {label}: {example} appears more than once",
            hint="pick a key that identifies each row, or several columns: --key a,b",
        )


def row_diff(
    before: Batches,
    after: Batches,
    key: list[str],
    *,
    labels: tuple[str, str] = ("before", "after"),
    examples: int = 5,
    scratch: Path | None = None,
) -> RowDiff:
    """Rows added, removed and changed between two tables identified by ``key``."""
    folder = Path(tempfile.mkdtemp(prefix="keel-rowdiff-", dir=scratch))
    try:
        _rows_before, schema_a = _partition(before, key, folder, "a")
        n_after, schema_b = _partition(after, key, folder, "b")
        if schema_a is None and schema_b is None:
            return RowDiff(key=key, added=0, removed=0, changed=0, unchanged=0)
        common = _common_schema(schema_a or schema_b, schema_b or schema_a, key, labels)
        added = removed = changed = 0
        ex_added: list[dict[str, Any]] = []
        ex_removed: list[dict[str, Any]] = []
        changed_keys: list[dict[str, Any]] = []
        for b in range(BUCKETS):
            left = _bucket(folder, "a", b, common)
            right = _bucket(folder, "b", b, common)
            _check_unique(left, key, labels[0])
            _check_unique(right, key, labels[1])
            joined = left.join(right, keys=key, join_type="full outer", left_suffix="_a", right_suffix="_b")
            h_a, h_b = joined.column("__hash_a"), joined.column("__hash_b")
            only_b = joined.filter(pc.is_null(h_a))
            only_a = joined.filter(pc.is_null(h_b))
            both = joined.filter(pc.and_(pc.is_valid(h_a), pc.is_valid(h_b)))
            diff = both.filter(pc.not_equal(both.column("__hash_a"), both.column("__hash_b")))
            added += only_b.num_rows
            removed += only_a.num_rows
            changed += diff.num_rows
            ex_added += _keys(only_b, key, examples - len(ex_added))
            ex_removed += _keys(only_a, key, examples - len(ex_removed))
            changed_keys += _keys(diff, key, examples - len(changed_keys))
        unchanged = n_after - added - changed
        return RowDiff(
            key=key,
            added=added,
            removed=removed,
            changed=changed,
            unchanged=unchanged,
            added_examples=_rows_for(after, key, ex_added),
            removed_examples=_rows_for(before, key, ex_removed),
            changed_examples=_changes(before, after, key, changed_keys),
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _keys(table: pa.Table, key: list[str], room: int) -> list[dict[str, Any]]:
    if room <= 0 or not table.num_rows:
        return []
    head = table.select(key).slice(0, room)
    rows: list[dict[str, Any]] = head.to_pylist()
    return rows


def _rows_for(batches: Batches, key: list[str], keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The full rows whose keys are in ``keys``, found in one streaming pass."""
    if not keys:
        return []
    wanted = {tuple(k[c] for c in key) for k in keys}
    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    values = pa.array([k[key[0]] for k in keys])
    for batch in batches():
        column = batch.column(key[0])
        mask = pc.is_in(column, value_set=values.cast(column.type))
        if not pc.any(mask).as_py():
            continue
        for row in batch.filter(mask).to_pylist():
            ident = tuple(row[c] for c in key)
            if ident in wanted:
                found[ident] = row
        if len(found) == len(wanted):
            break
    return [_plain_row(found[ident]) for ident in (tuple(k[c] for c in key) for k in keys) if ident in found]


def _changes(before: Batches, after: Batches, key: list[str], keys: list[dict[str, Any]]) -> list[RowChange]:
    old = {tuple(r[c] for c in key): r for r in _rows_for(before, key, keys)}
    new = {tuple(r[c] for c in key): r for r in _rows_for(after, key, keys)}
    out = []
    for k in keys:
        ident = tuple(k[c] for c in key)
        a, b = old.get(ident, {}), new.get(ident, {})
        columns = {
            c: (a.get(c), b.get(c)) for c in sorted(set(a) | set(b)) if c not in key and a.get(c) != b.get(c)
        }
        out.append(RowChange(key=_plain_row(k), columns=columns))
    return out


def _plain_row(row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in row.items():
        if value is None or isinstance(value, bool | int | float | str):
            out[name] = value
        else:
            out[name] = str(value)
    return out
