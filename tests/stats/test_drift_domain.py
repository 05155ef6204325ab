"""The domain classifier catches a change in how features go together that per-feature tests miss."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from keel.stats.drift import detect
from keel.stats.drift_domain import domain_classifier
from keel.stats.drift_reference import build_reference


def _pairs(rng: np.random.Generator, n: int, correlation: float) -> pa.Table:
    x = rng.normal(0, 1, n)
    y = correlation * x + np.sqrt(1 - correlation**2) * rng.normal(0, 1, n)
    return pa.table({"x": x, "y": y, "plan": rng.choice(["a", "b"], n)})


def test_a_joint_shift_is_found_though_every_column_looks_the_same() -> None:
    rng = np.random.default_rng(0)
    reference, window = _pairs(rng, 1500, 0.9), _pairs(rng, 1500, -0.9)
    per_feature = detect(build_reference(reference, ["x", "y", "plan"]), window)
    assert per_feature.drifted == []
    found = domain_classifier(reference, window, ["x", "y", "plan"], max_rows=1000, permutations=100)
    assert found.drifted and found.auc > 0.8 and found.p_value == pytest.approx(1 / 101)
    assert found.baseline_mean == pytest.approx(0.5, abs=0.02)
    assert set(found.top_features) >= {"x", "y"}


def test_no_shift_gives_an_auc_within_the_baseline() -> None:
    rng = np.random.default_rng(1)
    found = domain_classifier(
        _pairs(rng, 1500, 0.9), _pairs(rng, 1500, 0.9), ["x", "y", "plan"], permutations=100
    )
    assert not found.drifted and abs(found.auc - 0.5) < 0.05


def test_too_few_rows_is_refused() -> None:
    rng = np.random.default_rng(2)
    with pytest.raises(ValueError, match="at least 20 rows"):
        domain_classifier(_pairs(rng, 10, 0.5), _pairs(rng, 100, 0.5), ["x"])
