"""Drift tests (keel.stats.drift*): equal to scipy, calibrated under no drift, sensitive to real shifts."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats as sps
from scipy.spatial.distance import jensenshannon

from keel.core.errors import InvalidInput
from keel.stats.drift import DEFAULT_TESTS, detect, drift_test, registered
from keel.stats.drift_reference import (
    ColumnSample,
    build_reference,
    categorical_sample,
    decode_reference,
    encode_reference,
    numeric_sample,
)
from keel.stats.drift_tests import KS_EXACT_MAX, ks, ks_sorted, wasserstein_sorted

ALPHA = 0.05


def _table(
    rng: np.random.Generator, n: int, shift: float = 0.0, cats: tuple[float, ...] = (0.5, 0.3, 0.2)
) -> pa.Table:
    return pa.table(
        {
            "x": rng.normal(shift, 1.0, n),
            "k": rng.integers(0, 100, n),
            "c": rng.choice(["a", "b", "c"], n, p=list(cats)),
        }
    )


def test_every_builtin_test_is_registered_through_the_entry_point_group() -> None:
    names = set(registered())
    assert {n for kind in DEFAULT_TESTS.values() for n in kind} <= names
    assert drift_test("ks").kinds == frozenset({"numeric"})
    assert drift_test("psi").kinds == frozenset({"numeric", "categorical"})


@pytest.mark.parametrize("sizes", [(500, 300), (KS_EXACT_MAX + 500, 12_000)])
def test_ks_on_a_sorted_reference_is_scipys(sizes: tuple[int, int]) -> None:
    rng = np.random.default_rng(3)
    a, b = np.sort(rng.normal(0, 1, sizes[0])), np.sort(rng.normal(0.05, 1, sizes[1]))
    expected = sps.ks_2samp(a, b)
    distance, p = ks_sorted(a, b)
    assert distance == pytest.approx(expected.statistic, abs=1e-12)
    assert p == pytest.approx(expected.pvalue, rel=1e-6)


def test_ks_beyond_the_finite_n_limit_stays_within_a_fraction_of_a_percent_of_scipy() -> None:
    rng = np.random.default_rng(11)
    a, b = np.sort(rng.normal(0, 1, 300_000)), np.sort(rng.normal(0.006, 1, 300_000))
    expected = sps.ks_2samp(a, b, method="asymp")
    distance, p = ks_sorted(a, b)
    assert distance == expected.statistic
    assert 1e-6 < p < 0.5 and p == pytest.approx(expected.pvalue, rel=5e-3)


def test_ks_handles_ties_like_scipy() -> None:
    rng = np.random.default_rng(4)
    a = np.sort(rng.integers(0, 5, 20_000).astype(float))
    b = np.sort(rng.integers(0, 6, 15_000).astype(float))
    assert ks_sorted(a, b)[0] == pytest.approx(sps.ks_2samp(a, b).statistic, abs=1e-12)


def test_wasserstein_and_jensen_shannon_are_scipys() -> None:
    rng = np.random.default_rng(5)
    a, b = np.sort(rng.normal(0, 2, 3000)), np.sort(rng.normal(1, 2, 2000))
    assert wasserstein_sorted(a, b) == pytest.approx(sps.wasserstein_distance(a, b), rel=1e-9)
    ref = build_reference(pa.table({"c": ["a"] * 60 + ["b"] * 40}), ["c"])["c"]
    cur = categorical_sample(pa.array(["a"] * 30 + ["b"] * 50 + ["z"] * 20))
    value = drift_test("jensen_shannon").run(ref, cur).statistic
    assert value == pytest.approx(jensenshannon([0.6, 0.4, 0.0], [0.3, 0.5, 0.2], base=2))


def test_reference_statistics_round_trip_and_their_bytes_are_deterministic() -> None:
    table = _table(np.random.default_rng(6), 2000).append_column("s", pa.array([None, 1.5] * 1000))
    first = encode_reference(build_reference(table, ["x", "c", "s"]))
    assert encode_reference(build_reference(table, ["x", "c", "s"])) == first
    back = decode_reference(first)
    assert list(back) == ["x", "c", "s"]
    assert np.array_equal(back["x"].values, np.sort(table.column("x").to_numpy()))  # type: ignore[union-attr]
    expected = dict(
        zip(*np.unique(table.column("c").to_numpy(zero_copy_only=False), return_counts=True), strict=True)
    )
    assert back["c"].counts == {str(k): int(v) for k, v in expected.items()}  # type: ignore[union-attr]
    assert back["s"].nulls == 1000 and back["s"].rows == 2000


@pytest.mark.parametrize("test_name,kind", [("ks", "numeric"), ("chi2", "categorical")])
def test_false_alarm_rate_under_no_drift_stays_near_alpha(test_name: str, kind: str) -> None:
    """1,000 seeds of clean windows: the per-feature false-positive rate is within sampling error of 5%."""
    rng = np.random.default_rng(20261129)
    test = drift_test(test_name)
    alarms = 0
    trials = 1000
    for _ in range(trials):
        cur: ColumnSample
        if kind == "numeric":
            ref = build_reference(pa.table({"v": rng.normal(0, 1, 400)}), ["v"])["v"]
            cur = numeric_sample(pa.array(rng.normal(0, 1, 300)))
        else:
            probs = [0.4, 0.3, 0.2, 0.1]
            ref = build_reference(pa.table({"v": rng.choice(list("abcd"), 400, p=probs)}), ["v"])["v"]
            cur = categorical_sample(pa.array(rng.choice(list("abcd"), 300, p=probs)))
        p = test.run(ref, cur).p_value
        assert p is not None
        alarms += p < ALPHA
    rate = alarms / trials
    assert 0.03 <= rate <= 0.065, rate


def test_holm_keeps_the_family_wise_false_alarm_rate_across_many_features() -> None:
    rng = np.random.default_rng(7)
    windows_with_alarm = 0
    trials = 200
    for _ in range(trials):
        ref_table = pa.table({f"f{i}": rng.normal(0, 1, 300) for i in range(10)})
        cur_table = pa.table({f"f{i}": rng.normal(0, 1, 200) for i in range(10)})
        result = detect(build_reference(ref_table, ref_table.column_names), cur_table, histograms=False)
        windows_with_alarm += bool(result.drifted)
    assert windows_with_alarm / trials <= 0.08


def test_a_real_shift_is_detected_with_its_effect_and_histogram() -> None:
    rng = np.random.default_rng(8)
    reference = build_reference(_table(rng, 5000), ["x", "k", "c"])
    result = detect(reference, _table(rng, 2000, shift=0.3, cats=(0.3, 0.3, 0.4)))
    by_name = {f.name: f for f in result.features}
    assert by_name["x"].drifted and by_name["c"].drifted and not by_name["k"].drifted
    assert result.drifted == ["x", "c"] and result.share == pytest.approx(2 / 3)
    ks_verdict = by_name["x"].tests[0]
    assert ks_verdict.test == "ks" and ks_verdict.adjusted_p is not None and ks_verdict.adjusted_p < 1e-3
    assert [t.test for t in by_name["x"].tests] == ["ks", "wasserstein", "psi"]
    assert by_name["x"].histogram is not None and len(by_name["x"].histogram.edges) == 21
    assert by_name["c"].histogram is not None and by_name["c"].histogram.labels[:1] == ["a"]


def test_every_shift_ks_detects_at_one_in_a_thousand_is_reported() -> None:
    rng = np.random.default_rng(9)
    for shift in (0.05, 0.1, 0.2):
        ref_values, cur_values = rng.normal(0, 1, 20_000), rng.normal(shift, 1, 20_000)
        if sps.ks_2samp(ref_values, cur_values).pvalue < 1e-3:
            ref = build_reference(pa.table({"x": ref_values}), ["x"])
            assert detect(ref, pa.table({"x": cur_values})).drifted == ["x"], shift


def test_missing_values_and_new_categories_are_reported() -> None:
    reference = build_reference(pa.table({"c": ["a", "b"] * 500, "x": [1.0, 2.0] * 500}), ["c", "x"])
    window = pa.table({"c": ["a", "b", "new"] * 200, "x": [None, 1.0, 2.0] * 200})
    result = detect(reference, window)
    c, x = result.features
    assert c.new_categories == {"new": 200} and c.drifted
    assert x.missing.drifted and x.current_missing_share == pytest.approx(1 / 3) and x.drifted


def test_a_window_with_one_category_or_no_values_is_judged_not_refused() -> None:
    reference = build_reference(pa.table({"c": ["a", "b"] * 500, "x": [1.0, 2.0] * 500}), ["c", "x"])
    one = detect(reference, pa.table({"c": ["a"] * 100, "x": pa.array([None] * 100, pa.float64())}))
    c, x = one.features
    assert c.drifted and c.tests[0].p_value is not None and c.tests[0].p_value < 1e-6
    assert x.skipped == "no values in the window" and x.drifted  # its missing share says so


def test_bad_windows_and_settings_are_clear_errors() -> None:
    reference = build_reference(pa.table({"x": [1.0, 2.0, 3.0]}), ["x"])
    with pytest.raises(InvalidInput, match="no rows"):
        detect(reference, pa.table({"x": pa.array([], pa.float64())}))
    with pytest.raises(InvalidInput, match="lacks the monitored column"):
        detect(reference, pa.table({"y": [1.0]}))
    with pytest.raises(InvalidInput, match="alpha"):
        detect(reference, pa.table({"x": [1.0]}), alpha=1.5)
    with pytest.raises(InvalidInput, match="no drift test 'nope'; registered: chi2"):
        detect(reference, pa.table({"x": [1.0]}), tests={"numeric": ["nope"]})
    with pytest.raises(InvalidInput, match="'chi2' does not take numeric"):
        detect(reference, pa.table({"x": [1.0]}), tests={"numeric": ["chi2"]})
    with pytest.raises(ValueError, match="no column 'y'"):
        build_reference(pa.table({"x": [1.0]}), ["y"])
    with pytest.raises(ValueError, match="drift tests take numeric or categorical"):
        build_reference(pa.table({"d": pa.array([b"x"])}), ["d"])


def test_ks_refuses_an_empty_sample() -> None:
    reference = build_reference(pa.table({"x": [1.0]}), ["x"])["x"]
    with pytest.raises(ValueError, match="values in both"):
        ks.run(reference, numeric_sample(pa.array([], pa.float64())))
