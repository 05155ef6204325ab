"""Fairness: point estimates equal Fairlearn's; bootstrap intervals hold them; bad input is refused."""

from __future__ import annotations

import numpy as np
import pytest

from keel.core.errors import InvalidInput
from keel.validation.fairness import fairness


def _data(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], rows, p=[0.5, 0.4, 0.1])
    y = (rng.random(rows) < 0.3).astype(int)
    pred = (rng.random(rows) < 0.2 + 0.15 * (group == "a") + 0.2 * y).astype(int)
    return y, pred, group


def test_point_estimates_equal_fairlearns() -> None:
    fl = pytest.importorskip("fairlearn.metrics")
    y, pred, group = _data(5000, 1)
    report = fairness(y, pred, group, column="g", n_boot=200)
    expected = {
        "demographic_parity_difference": fl.demographic_parity_difference,
        "demographic_parity_ratio": fl.demographic_parity_ratio,
        "equalized_odds_difference": fl.equalized_odds_difference,
        "equalized_odds_ratio": fl.equalized_odds_ratio,
    }
    for name, function in expected.items():
        assert report.disparities[name].value == pytest.approx(
            function(y, pred, sensitive_features=group), abs=1e-12
        )
    frame = fl.MetricFrame(
        metrics={
            "selection_rate": fl.selection_rate,
            "recall": fl.true_positive_rate,
            "fpr": fl.false_positive_rate,
        },
        y_true=y,
        y_pred=pred,
        sensitive_features=group,
    ).by_group
    for g in report.groups:
        assert g.metrics["selection_rate"].value == pytest.approx(frame.loc[g.group, "selection_rate"])
        assert g.metrics["recall"].value == pytest.approx(frame.loc[g.group, "recall"])
        assert g.metrics["false_positive_rate"].value == pytest.approx(frame.loc[g.group, "fpr"])
    assert [g.count for g in report.groups] == [int((group == k).sum()) for k in ("a", "b", "c")]


def test_intervals_bracket_the_estimate_and_narrow_with_more_rows() -> None:
    small = fairness(*_data(500, 2), column="g", n_boot=500, seed=1)
    large = fairness(*_data(50_000, 2), column="g", n_boot=500, seed=1)
    for report in (small, large):
        for est in report.disparities.values():
            assert est.low is not None and est.high is not None and est.low <= est.high
    dpd_small, dpd_large = (
        small.disparities["demographic_parity_difference"],
        large.disparities["demographic_parity_difference"],
    )
    assert dpd_large.low is not None and dpd_large.high is not None
    assert dpd_large.low <= dpd_large.value <= dpd_large.high
    assert (dpd_large.high - dpd_large.low) < (dpd_small.high or 0) - (dpd_small.low or 0)
    again = fairness(*_data(500, 2), column="g", n_boot=500, seed=1)
    assert again == small  # seeded: the same intervals each time
    none = fairness(*_data(500, 2), column="g", n_boot=0)
    assert none.disparities["demographic_parity_difference"].low is None


def test_bad_inputs_name_what_is_wrong() -> None:
    y, pred, group = _data(200, 3)
    with pytest.raises(InvalidInput, match="single group"):
        fairness(y, pred, np.array(["a"] * 200), column="gender")
    with pytest.raises(InvalidInput, match="no label"):
        fairness(np.where(np.arange(200) == 5, np.nan, y.astype(float)), pred, group, column="g")
    with pytest.raises(InvalidInput, match="0/1 predictions"):
        fairness(y, pred * 3, group, column="g")
    with pytest.raises(InvalidInput, match="one length"):
        fairness(y[:10], pred, group, column="g")
    with pytest.raises(InvalidInput, match="no rows"):
        fairness(y[:0], pred[:0], group[:0], column="g")
    with pytest.raises(InvalidInput, match="no value in sensitive column 'g'"):
        fairness(y, pred, np.where(np.arange(200) == 0, None, group), column="g")
    with pytest.raises(InvalidInput, match="n_boot"):
        fairness(y, pred, group, column="g", n_boot=-1)
    with pytest.raises(InvalidInput, match="confidence"):
        fairness(y, pred, group, column="g", confidence=1.0)
