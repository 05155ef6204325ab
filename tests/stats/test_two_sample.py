"""Two-sample tests, PSI, multiple-testing corrections and row checks (keel.stats.tests / checks)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats as sps

from keel.stats.checks import (
    duplicate_rows,
    missing,
    not_matching,
    out_of_range,
    outside_domain,
    repeated,
    robust_outliers,
)
from keel.stats.tests import adjust, chi2_two_sample, ks_two_sample, psi_from_counts, psi_numeric


def test_holm_and_bh_match_their_textbook_values() -> None:
    p = [0.01, 0.04, 0.03, 0.20]
    # Holm: sorted 0.01*4, 0.03*3, 0.04*2 (made monotone), 0.20*1 (monotone).
    assert adjust(p, "holm") == pytest.approx([0.04, 0.09, 0.09, 0.20])
    # BH: 0.01*4/1, 0.03*4/2, 0.04*4/3, 0.20 -> monotone from the top.
    assert adjust(p, "bh") == pytest.approx([0.04, 0.05333333, 0.05333333, 0.20])
    assert adjust(p, "none") == p
    assert adjust([], "holm") == []
    assert max(adjust([0.9, 0.8], "holm")) <= 1.0


def test_ks_is_scipys_and_its_distance_is_the_effect() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, 500), rng.normal(0.3, 1, 400)
    result = ks_two_sample(a, b)
    expected = sps.ks_2samp(a, b, method="asymp")
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.p_value == pytest.approx(expected.pvalue)
    assert result.effect == result.statistic
    with pytest.raises(ValueError, match="both samples"):
        ks_two_sample(a, [])


def test_chi_square_two_sample_holds_its_rate_where_goodness_of_fit_does_not() -> None:
    """Small reference, small batch, same distribution: the contingency test rejects about alpha of the
    time; a goodness-of-fit test against the reference's frequencies (its noise ignored) far more."""
    rng = np.random.default_rng(7)
    shares = [0.5, 0.3, 0.15, 0.05]
    labels = ["a", "b", "c", "d"]
    two_sample = gof = 0
    trials = 400
    for _ in range(trials):
        ref = rng.multinomial(80, shares)
        new = rng.multinomial(400, shares)
        result = chi2_two_sample(
            dict(zip(labels, ref.tolist(), strict=True)), dict(zip(labels, new.tolist(), strict=True))
        )
        two_sample += result.p_value < 0.05
        expected = np.maximum(ref, 0.5) / np.maximum(ref, 0.5).sum() * new.sum()
        gof += sps.chisquare(new, expected).pvalue < 0.05
    assert two_sample / trials < 0.09
    assert gof / trials > 2 * two_sample / trials


def test_chi_square_sees_a_shift_and_one_category_cannot_differ() -> None:
    shifted = chi2_two_sample({"a": 500, "b": 500}, {"a": 200, "b": 800})
    assert shifted.p_value < 1e-10 and shifted.effect > 0.1
    same = chi2_two_sample({"a": 10}, {"a": 30})
    assert same.p_value == 1.0 and same.effect == pytest.approx(0.0)


def test_psi_is_zero_for_equal_shares_and_grows_with_the_shift() -> None:
    assert psi_from_counts([10, 20, 30], [20, 40, 60]) == pytest.approx(0.0, abs=1e-9)
    rng = np.random.default_rng(3)
    ref = rng.normal(0, 1, 5000)
    small = psi_numeric(ref, rng.normal(0.1, 1, 5000))
    large = psi_numeric(ref, rng.normal(1.0, 1, 5000))
    assert small < 0.05 < 0.2 < large


def test_value_checks_count_and_sample_the_failing_rows() -> None:
    col = pa.array([1.0, 5.0, None, 12.0, float("nan"), -3.0])
    found = out_of_range(col, 0.0, 10.0)
    assert found.count == 2 and found.rows == [(3, 12.0), (5, -3.0)]
    assert missing(col).count == 2  # null and NaN
    text = pa.array(["a", "b", "z", None, "a"])
    assert outside_domain(text, ["a", "b"]).rows == [(2, "z")]
    assert repeated(text).rows == [(4, "a")]
    codes = pa.array(["AB-12", "CD-9", "nope"])
    assert not_matching(codes, r"[A-Z]+-\d+").rows == [(2, "nope")]


def test_robust_outliers_are_not_hidden_by_each_other() -> None:
    values = np.concatenate([np.random.default_rng(0).normal(0, 1, 1000), [40.0, 45.0]])
    found = robust_outliers(pa.array(values), z=5)
    assert found.count == 2 and [i for i, _ in found.rows] == [1000, 1001]
    assert robust_outliers(pa.array([1.0] * 10)).count == 0  # MAD zero: no outliers by this rule


def test_duplicate_rows_name_the_later_copies() -> None:
    table = pa.table({"a": [1, 2, 1, 1], "b": ["x", "y", "x", "z"]})
    found = duplicate_rows(table)
    assert found.count == 1 and found.rows == [(2, {"a": 1, "b": "x"})]
