"""The keyed row diff held to a plain Python reference (Hypothesis), and pinned where the reference is silent.

``row_diff`` streams both tables through hashed buckets on disk; the reference below
compares two lists of dicts. They must agree on every count, and every example must be a
real row with exactly the columns that differ, whatever the batch sizes and whatever the
order of the columns (a table whose columns were reordered has not changed: issue 10.13's
surviving mutant).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keel.core.errors import InvalidInput
from keel.datasets.rowdiff import BUCKETS, row_diff

SCHEMA = pa.schema([("k", pa.int64()), ("k2", pa.string()), ("x", pa.int64()), ("y", pa.string())])


def batches(
    rows: list[dict[str, Any]], columns: list[str], size: int
) -> Callable[[], Iterator[pa.RecordBatch]]:
    """A table of ``rows`` with its columns in ``columns`` order, read ``size`` rows a batch."""
    schema = pa.schema([SCHEMA.field(c) for c in columns])
    table = pa.Table.from_pylist(rows, schema=schema)
    return lambda: iter(table.to_batches(max_chunksize=size))


def reference(before: list[dict[str, Any]], after: list[dict[str, Any]], key: list[str]) -> dict[str, Any]:
    """The diff as a person would compute it over two lists of rows."""

    def ident(row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(row[c] for c in key)

    old = {ident(r): r for r in before}
    new = {ident(r): r for r in after}
    changed = {
        k: {c: (old[k][c], new[k][c]) for c in sorted(new[k]) if c not in key and old[k][c] != new[k][c]}
        for k in old.keys() & new.keys()
    }
    changed = {k: cols for k, cols in changed.items() if cols}
    return {
        "added": new.keys() - old.keys(),
        "removed": old.keys() - new.keys(),
        "changed": changed,
        "unchanged": len(new) - len(new.keys() - old.keys()) - len(changed),
        "old": old,
        "new": new,
    }


_value = st.one_of(st.none(), st.integers(-2, 2))
_text = st.one_of(st.none(), st.sampled_from(["", "a", "b", "é"]))


@st.composite
def _tables(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    keys = draw(
        st.lists(st.tuples(st.integers(0, 40), st.sampled_from(["p", "q"])), unique=True, max_size=30)
    )
    before, after = [], []
    for k, k2 in keys:
        row = {"k": k, "k2": k2, "x": draw(_value), "y": draw(_text)}
        side = draw(st.sampled_from(["both", "both", "before", "after"]))
        if side != "after":
            before.append(row)
        if side != "before":
            edit = draw(st.sampled_from(["same", "same", "x", "y"]))
            changed = dict(row)
            if edit == "x":
                changed["x"] = draw(_value)
            elif edit == "y":
                changed["y"] = draw(_text)
            after.append(changed)
    return draw(st.permutations(before)), draw(st.permutations(after))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tables=_tables(),
    key=st.sampled_from([["k", "k2"], ["k2", "k"]]),
    order_after=st.permutations(["k", "k2", "x", "y"]),
    sizes=st.tuples(st.integers(1, 7), st.integers(1, 7)),
    examples=st.integers(0, 4),
)
def test_row_diff_equals_the_plain_reference(
    tables: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    key: list[str],
    order_after: list[str],
    sizes: tuple[int, int],
    examples: int,
) -> None:
    before, after = tables
    got = row_diff(
        batches(before, ["k", "k2", "x", "y"], sizes[0]),
        batches(after, order_after, sizes[1]),
        key,
        examples=examples,
    )
    want = reference(before, after, key)
    assert (got.added, got.removed, got.changed, got.unchanged) == (
        len(want["added"]),
        len(want["removed"]),
        len(want["changed"]),
        want["unchanged"],
    )
    assert len(got.added_examples) == min(examples, got.added)
    assert len(got.removed_examples) == min(examples, got.removed)
    assert len(got.changed_examples) == min(examples, got.changed)
    for row in got.added_examples:
        assert row == want["new"][tuple(row[c] for c in key)] and tuple(row[c] for c in key) in want["added"]
    for row in got.removed_examples:
        assert (
            row == want["old"][tuple(row[c] for c in key)] and tuple(row[c] for c in key) in want["removed"]
        )
    for change in got.changed_examples:
        ident = tuple(change.key[c] for c in key)
        assert change.key == dict(zip(key, ident, strict=True))
        assert change.columns == want["changed"][ident]


@given(
    rows=st.lists(st.fixed_dictionaries({"k": st.integers(0, 10**6), "x": _value, "y": _text}), max_size=40),
    order=st.permutations(["k", "x", "y"]),
    size=st.integers(1, 9),
)
@settings(max_examples=40, deadline=None)
def test_a_table_against_itself_with_its_columns_reordered_has_no_changes(
    rows: list[dict[str, Any]], order: list[str], size: int
) -> None:
    rows = list({r["k"]: r for r in rows}.values())
    schema = pa.schema([("k", pa.int64()), ("x", pa.int64()), ("y", pa.string())])
    table = pa.Table.from_pylist(rows, schema=schema)
    reordered = table.select(order)
    got = row_diff(
        lambda: iter(table.to_batches(max_chunksize=size)), lambda: iter(reordered.to_batches(3)), ["k"]
    )
    assert (got.added, got.removed, got.changed, got.unchanged) == (0, 0, 0, len(rows))
    assert got.added_examples == got.removed_examples == [] and got.changed_examples == []


def _rows(keys: range, **values: Any) -> list[dict[str, Any]]:
    return [{"k": k, "k2": "p", "x": values.get("x", k), "y": values.get("y", "v")} for k in keys]


def test_examples_stop_at_five_by_default_across_buckets_and_batches() -> None:
    before = _rows(range(0, 300))
    after = _rows(range(100, 400), x=-1)  # 100 removed, 200 changed (x), 100 added
    cols = ["k", "k2", "x", "y"]
    got = row_diff(batches(before, cols, 7), batches(after, cols, 11), ["k"])
    assert (got.added, got.removed, got.changed, got.unchanged) == (100, 100, 200, 0)
    assert len(got.added_examples) == len(got.removed_examples) == len(got.changed_examples) == 5
    assert all(300 <= r["k"] < 400 and r["x"] == -1 for r in got.added_examples)
    assert all(0 <= r["k"] < 100 and r["x"] == r["k"] for r in got.removed_examples)
    assert all(c.columns == {"x": (c.key["k"], -1)} for c in got.changed_examples)
    one = row_diff(batches(before, cols, 7), batches(after, cols, 11), ["k"], examples=1)
    assert len(one.added_examples) == len(one.removed_examples) == len(one.changed_examples) == 1


def test_example_rows_are_found_in_any_batch() -> None:
    """The read-back pass must look past batches without a match and stop only when all are found."""
    before = _rows(range(0, 50))
    after = _rows(range(0, 49)) + _rows(range(60, 61))  # removed 49, added 60: both in the last batch
    cols = ["k", "k2", "x", "y"]
    got = row_diff(batches(before, cols, 5), batches(after, cols, 5), ["k"])
    assert [r["k"] for r in got.added_examples] == [60]
    assert [r["k"] for r in got.removed_examples] == [49]
    changed_late = _rows(range(0, 49)) + _rows(range(49, 50), y="new")
    got = row_diff(batches(before, cols, 5), batches(changed_late, cols, 5), ["k"])
    assert [(c.key, c.columns) for c in got.changed_examples] == [({"k": 49}, {"y": ("v", "new")})]


def test_many_batches_land_in_the_same_bucket_file() -> None:
    """Every batch is appended to its bucket's file: none overwrites an earlier batch's rows."""
    before = _rows(range(0, 40 * BUCKETS))
    cols = ["k", "k2", "x", "y"]
    got = row_diff(batches(before, cols, 3), batches(before, cols, 1000), ["k"])
    assert (got.added, got.removed, got.changed, got.unchanged) == (0, 0, 0, 40 * BUCKETS)


def test_an_added_column_shows_in_each_changed_row() -> None:
    before = pa.table({"k": [1, 2], "x": [1, 2]})
    after = pa.table({"k": [1, 2], "x": [1, 5], "z": ["a", None]})
    got = row_diff(lambda: iter(before.to_batches()), lambda: iter(after.to_batches()), ["k"])
    assert got.changed == 2 and got.unchanged == 0
    assert {c.key["k"]: c.columns for c in got.changed_examples} == {
        1: {"z": (None, "a")},
        2: {"x": (2, 5)},
    }


def test_an_empty_side_diffs_as_all_added_or_all_removed() -> None:
    rows = pa.table({"k": [1, 2, 3], "x": [1, 2, 3]})
    nothing: Callable[[], Iterator[pa.RecordBatch]] = lambda: iter(())  # noqa: E731
    added = row_diff(nothing, lambda: iter(rows.to_batches()), ["k"])
    assert (added.added, added.removed, added.changed, added.unchanged) == (3, 0, 0, 0)
    assert sorted(r["k"] for r in added.added_examples) == [1, 2, 3]
    removed = row_diff(lambda: iter(rows.to_batches()), nothing, ["k"])
    assert (removed.added, removed.removed, removed.changed, removed.unchanged) == (0, 3, 0, 0)
    assert sorted(r["k"] for r in removed.removed_examples) == [1, 2, 3]


def test_values_json_cannot_hold_are_shown_as_text() -> None:
    before = pa.table({"k": [1], "when": [dt.date(2026, 1, 1)], "n": [None]}, schema=None)
    after = pa.table({"k": [1, 2], "when": [dt.date(2026, 1, 2), dt.date(2026, 3, 4)], "n": [None, 1.5]})
    got = row_diff(lambda: iter(before.to_batches()), lambda: iter(after.to_batches()), ["k"])
    assert got.added_examples == [{"k": 2, "when": "2026-03-04", "n": 1.5}]
    assert got.changed_examples[0].columns == {"when": ("2026-01-01", "2026-01-02")}


@pytest.mark.parametrize(("dup_side", "label"), [(0, "v1"), (1, "v2")])
def test_a_key_that_is_not_unique_is_refused_naming_the_side(dup_side: int, label: str) -> None:
    unique_rows = pa.table({"k": [1, 2], "k2": ["a", "a"], "x": [1, 2]})
    dup_rows = pa.table({"k": [1, 1], "k2": ["a", "a"], "x": [1, 2]})
    sides = [unique_rows, unique_rows]
    sides[dup_side] = dup_rows
    with pytest.raises(InvalidInput) as caught:
        row_diff(
            lambda: iter(sides[0].to_batches()),
            lambda: iter(sides[1].to_batches()),
            ["k", "k2"],
            labels=("v1", "v2"),
        )
    assert (
        caught.value.message
        == f"key k, k2 is not unique in {label}: {{'k': 1, 'k2': 'a'}} appears more than once"
    )
    assert caught.value.hint == "pick a key that identifies each row, or several columns: --key a,b"


def test_scratch_files_go_under_scratch_and_are_removed(tmp_path: Path) -> None:
    seen: list[list[str]] = []
    rows = pa.table({"k": [1, 2], "x": [1, 2]})

    def after() -> Iterator[pa.RecordBatch]:
        seen.append(sorted(p.name for p in tmp_path.iterdir()))  # while the diff runs
        yield from rows.to_batches()

    row_diff(lambda: iter(rows.to_batches()), after, ["k"], scratch=tmp_path)
    assert seen and len(seen[0]) == 1 and seen[0][0].startswith("keel-rowdiff-")
    assert list(tmp_path.iterdir()) == []


def test_a_key_whose_integer_width_changed_still_matches_rows() -> None:
    """int32 -> int64 between versions (a common widening): rows match, whichever buckets are empty."""
    before = pa.table({"k": pa.array(range(40), pa.int32()), "x": list(range(40))})
    after = pa.table(
        {
            "k": pa.array([*range(1, 40), 99], pa.int64()),
            "x": [0 if k == 5 else k for k in range(1, 40)] + [9],
        }
    )
    got = row_diff(lambda: iter(before.to_batches(7)), lambda: iter(after.to_batches(7)), ["k"])
    assert (got.added, got.removed, got.changed, got.unchanged) == (1, 1, 1, 38)
    assert got.added_examples == [{"k": 99, "x": 9}] and got.removed_examples == [{"k": 0, "x": 0}]
    assert [(c.key, c.columns) for c in got.changed_examples] == [({"k": 5}, {"x": (5, 0)})]


def test_a_key_that_changed_kind_is_refused_naming_both_types() -> None:
    before = pa.table({"k": pa.array([1, 2], pa.int64()), "x": [1, 2]})
    after = pa.table({"k": ["1", "2"], "x": [1, 2]})
    with pytest.raises(InvalidInput) as caught:
        row_diff(
            lambda: iter(before.to_batches()),
            lambda: iter(after.to_batches()),
            ["k"],
            labels=("t@v1", "t@v2"),
        )
    assert caught.value.message == "key k is int64 in t@v1 but string in t@v2: rows cannot be matched"
    assert caught.value.hint == "diff by a key whose type did not change (--key)"


def test_rows_are_spread_over_the_buckets(tmp_path: Path) -> None:
    """Each bucket file holds only its own share of the rows: memory stays one bucket, not the table."""
    rows = pa.table({"k": list(range(2000)), "x": list(range(2000))})
    per_file: dict[str, int] = {}

    def after() -> Iterator[pa.RecordBatch]:
        (folder,) = tmp_path.iterdir()
        for path in folder.glob("a-*.arrow"):  # the first side is written by now
            with pa.memory_map(str(path)) as source:
                per_file[path.name] = pa.ipc.open_file(source).read_all().num_rows
        yield from rows.to_batches(500)

    row_diff(lambda: iter(rows.to_batches(500)), after, ["k"], scratch=tmp_path)
    assert sum(per_file.values()) == 2000 and len(per_file) == BUCKETS
    assert max(per_file.values()) < 2000 // 8


def test_every_key_column_that_changed_kind_is_named() -> None:
    before = pa.table({"k": pa.array([1], pa.int64()), "k2": pa.array([1.5]), "x": [1]})
    after = pa.table({"k": ["1"], "k2": ["1.5"], "x": [1]})
    with pytest.raises(InvalidInput) as caught:
        row_diff(lambda: iter(before.to_batches()), lambda: iter(after.to_batches()), ["k", "k2"])
    assert caught.value.message == (
        "key k, k2 is int64, double in before but string, string in after: rows cannot be matched"
    )
