"""keel.stats: schema, streaming profile, sketches and the reservoir sample on known data."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from keel.stats import (
    HyperLogLog,
    Profiler,
    ReservoirSampler,
    StreamingHistogram,
    compare_profiles,
    diff_schemas,
    hash_array,
    infer_schema,
    profile_batches,
    profile_table,
)


def _table() -> pa.Table:
    return pa.table(
        {
            "id": pa.array(range(10), pa.int64()),
            "x": pa.array([1.0, 2.0, 3.0, 4.0, None, 6.0, 7.0, 8.0, 9.0, 10.0]),
            "colour": pa.array(["red", "blue", "red", None, "red", "blue", "green", "red", "red", "blue"]),
            "flag": pa.array([True, False, True, True, False, True, True, True, False, True]),
        }
    )


def test_profile_counts_moments_and_categories_are_exact() -> None:
    profile = profile_table(_table())
    assert profile.rows == 10
    x = profile.column("x")
    assert (x.count, x.nulls, x.min, x.max) == (9, 1, 1.0, 10.0)
    values = np.array([1, 2, 3, 4, 6, 7, 8, 9, 10], dtype=float)
    assert x.mean == pytest.approx(values.mean())
    assert x.std == pytest.approx(values.std(ddof=1))
    assert x.quantiles is not None and x.quantiles["p50"] == pytest.approx(np.quantile(values, 0.5))
    assert x.quantiles_exact
    assert x.histogram is not None and sum(x.histogram.counts) == 9
    assert len(x.histogram.edges) == len(x.histogram.counts) + 1
    colour = profile.column("colour")
    assert colour.categories == {"red": 5, "blue": 3, "green": 1}
    assert (colour.distinct, colour.distinct_exact, colour.nulls) == (3, True, 1)
    assert profile.column("flag").categories == {"true": 7, "false": 3}
    assert profile.column("flag").mean == pytest.approx(0.7)


def test_profile_is_the_same_whatever_the_batch_size() -> None:
    rng = np.random.default_rng(1)
    table = pa.table({"v": rng.normal(5, 2, 20_000), "k": rng.integers(0, 30, 20_000)})
    whole = profile_table(table)
    small, _ = profile_batches(table.to_batches(max_chunksize=777), table.schema)
    for a, b in zip(whole.columns, small.columns, strict=True):
        assert a.count == b.count and a.min == b.min and a.max == b.max
        assert a.mean == pytest.approx(b.mean) and a.std == pytest.approx(b.std)
        assert a.categories == b.categories
        assert a.histogram is not None and b.histogram is not None
        assert sum(a.histogram.counts) == sum(b.histogram.counts) == 20_000


def test_category_cap_switches_to_an_estimate() -> None:
    table = pa.table({"s": [f"v{i}" for i in range(5000)]})
    column = profile_table(table, category_cap=100).column("s")
    assert column.categories is None and column.categories_truncated
    assert not column.distinct_exact
    assert abs(column.distinct - 5000) < 5000 * 0.05


def test_hyperloglog_is_deterministic_and_close() -> None:
    a, b = HyperLogLog(), HyperLogLog()
    values = pa.array(np.arange(200_000))
    a.update(hash_array(values))
    b.update(hash_array(values))
    assert a.estimate() == b.estimate()
    assert abs(a.estimate() - 200_000) < 200_000 * 0.05
    assert hash_array(pa.array(["abc", None, "abc"])).tolist()[0] == hash_array(pa.array(["abc"])).tolist()[0]


def test_streaming_histogram_grows_without_losing_counts() -> None:
    hist = StreamingHistogram(bins=8)
    hist.update(np.array([0.0, 1.0]))
    hist.update(np.array([-50.0, 100.0, np.nan]))
    edges, counts = hist.result()
    assert sum(counts) == 4
    assert edges[0] <= -50.0 and edges[-1] > 100.0


def test_reservoir_sample_is_uniform_bounded_and_in_order() -> None:
    schema = pa.schema([("i", pa.int64())])
    sampler = ReservoirSampler(schema, 1000, seed=3)
    for start in range(0, 100_000, 4096):
        sampler.update(
            pa.record_batch([pa.array(np.arange(start, min(start + 4096, 100_000)))], schema=schema)
        )
    sample = sampler.result().column("i").to_numpy()
    assert len(sample) == 1000 and len(set(sample.tolist())) == 1000
    assert np.all(np.diff(sample) > 0)
    assert 40_000 < sample.mean() < 60_000  # uniform over 0..99,999


def test_schema_and_profile_differences() -> None:
    before = _table()
    after = (
        before.drop_columns(["flag"])
        .append_column("new", pa.array(range(10)))
        .set_column(1, "x", pa.array([float(i) * 2 for i in range(10)]))
    )
    changes = {
        (c.column, c.change) for c in diff_schemas(infer_schema(before.schema), infer_schema(after.schema))
    }
    assert changes == {("flag", "removed"), ("new", "added")}
    deltas = {d.column: d for d in compare_profiles(profile_table(before), profile_table(after))}
    assert "x" in deltas and "id" not in deltas
    stats = {d.stat for d in deltas["x"].deltas}
    assert {"mean", "nulls", "max"} <= stats


def test_profiler_refuses_a_batch_with_other_columns() -> None:
    profiler = Profiler(pa.schema([("a", pa.int64())]))
    with pytest.raises(ValueError, match="differ"):
        profiler.update(pa.record_batch([pa.array([1])], names=["b"]))
