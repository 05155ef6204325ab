"""Fairness: per-group metrics and disparities of a binary classifier, with bootstrap confidence intervals.

The point estimates are Fairlearn's definitions (``demographic_parity_difference``
and ``_ratio``, ``equalized_odds_difference`` and ``_ratio``: the worst
between-group gap of selection rate, or of true- and false-positive rate),
and a test holds them equal to Fairlearn's functions on the same data.

The bootstrap is where this differs from ``MetricFrame(n_boot=...)``: every
metric here is a function of four counts per group (true/false positives and
negatives), and resampling n rows with replacement draws those counts jointly
from a multinomial over the cells with the observed proportions. So one
``Generator.multinomial`` call of ``n_boot x 4·groups`` numbers replaces
``n_boot`` passes over the rows; the intervals are the same distribution's
percentiles, at a cost that does not grow with the row count.
"""

from __future__ import annotations

import warnings
from typing import Any, Final

import numpy as np

from keel.core.errors import InvalidInput
from keel.validation.model_schemas import Estimate, FairnessReport, GroupMetrics

#: The disparities reported for each sensitive column, as KPIs name them.
DISPARITIES: Final = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
)
#: Per-group metrics computed from the four cells.
GROUP_METRICS: Final = ("selection_rate", "recall", "false_positive_rate", "accuracy")


def _cells(y_true: np.ndarray, y_pred: np.ndarray, codes: np.ndarray, groups: int) -> np.ndarray:
    """Counts per group of (tp, fn, fp, tn), shape (groups, 4)."""
    cell = codes * 4 + (1 - y_true) * 2 + (1 - y_pred)
    return np.bincount(cell, minlength=groups * 4).reshape(groups, 4).astype(float)


def _rates(c: np.ndarray) -> dict[str, np.ndarray]:
    """Per-group metrics from counts shaped (..., groups, 4); NaN where a denominator is zero."""
    tp, fn, fp, tn = c[..., 0], c[..., 1], c[..., 2], c[..., 3]
    n = tp + fn + fp + tn
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "selection_rate": (tp + fp) / n,
            "recall": tp / (tp + fn),
            "false_positive_rate": fp / (fp + tn),
            "accuracy": (tp + tn) / n,
        }


def _disparities(rates: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The four disparities over the last axis (groups), as Fairlearn defines them."""

    def diff(x: np.ndarray) -> np.ndarray:
        gap: np.ndarray = np.nanmax(x, axis=-1) - np.nanmin(x, axis=-1)
        return gap

    def ratio(x: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            low, high = np.nanmin(x, axis=-1), np.nanmax(x, axis=-1)
            return np.where(high == 0, 1.0, low / high)

    sel, tpr, fpr = rates["selection_rate"], rates["recall"], rates["false_positive_rate"]
    return {
        "demographic_parity_difference": diff(sel),
        "demographic_parity_ratio": ratio(sel),
        "equalized_odds_difference": np.maximum(diff(tpr), diff(fpr)),
        "equalized_odds_ratio": np.minimum(ratio(tpr), ratio(fpr)),
    }


def _interval(samples: np.ndarray, value: float, confidence: float) -> Estimate:
    tail = (1 - confidence) / 2
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return Estimate(value=value)
    low, high = np.quantile(finite, [tail, 1 - tail])
    return Estimate(value=value, low=float(low), high=float(high))


def fairness(
    y_true: Any,
    y_pred: Any,
    sensitive: Any,
    *,
    column: str,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> FairnessReport:
    """Per-group metrics and disparities of 0/1 predictions across the values of one sensitive column.

    Raises InvalidInput for lengths that differ, missing labels, labels or
    predictions other than 0/1, fewer than two groups, or a bad ``n_boot`` /
    ``confidence``.
    """
    if n_boot < 0 or n_boot > 100_000:
        raise InvalidInput(f"n_boot must be between 0 and 100000, not {n_boot}")
    if not 0 < confidence < 1:
        raise InvalidInput(f"confidence must be between 0 and 1 (exclusive), not {confidence}")
    truth, pred, group = np.asarray(y_true), np.asarray(y_pred), np.asarray(sensitive, dtype=object)
    if not (truth.shape == pred.shape == group.shape) or truth.ndim != 1:
        raise InvalidInput("labels, predictions and the sensitive column must be 1-D and of one length")
    if truth.size == 0:
        raise InvalidInput("no rows to measure fairness on")
    if truth.dtype.kind == "f" and np.isnan(truth).any():
        raise InvalidInput(f"{int(np.isnan(truth).sum())} row(s) have no label; fairness needs every label")
    for name, values in (("labels", truth), ("predictions", pred)):
        if not np.isin(values, [0, 1]).all():
            raise InvalidInput(f"fairness metrics need 0/1 {name}; found other values")
    missing = np.array([g is None or (isinstance(g, float) and np.isnan(g)) for g in group])
    if missing.any():
        raise InvalidInput(f"{int(missing.sum())} row(s) have no value in sensitive column {column!r}")
    names, codes = np.unique(group.astype(str), return_inverse=True)
    if names.size < 2:
        raise InvalidInput(
            f"sensitive column {column!r} has a single group ({names[0]!r}); disparities need two or more"
        )
    cells = _cells(truth.astype(np.int64), pred.astype(np.int64), codes, names.size)
    point_rates = _rates(cells)
    point = _disparities(point_rates)
    boot_rates: dict[str, np.ndarray] = {}
    boot: dict[str, np.ndarray] = {}
    if n_boot:
        rng = np.random.default_rng(seed)
        n = int(cells.sum())
        draws = rng.multinomial(n, cells.reshape(-1) / n, size=n_boot).reshape(n_boot, names.size, 4)
        boot_rates = _rates(draws.astype(float))
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a resample may lack a group's positives
            boot = _disparities(boot_rates)
    groups = []
    for i, name in enumerate(names.tolist()):
        metrics = {
            metric: _interval(boot_rates[metric][:, i], float(point_rates[metric][i]), confidence)
            if n_boot
            else Estimate(value=float(point_rates[metric][i]))
            for metric in GROUP_METRICS
        }
        groups.append(GroupMetrics(group=name, count=int(cells[i].sum()), metrics=metrics))
    disparities = {
        d: _interval(boot[d], float(point[d]), confidence) if n_boot else Estimate(value=float(point[d]))
        for d in DISPARITIES
    }
    return FairnessReport(
        column=column, groups=groups, disparities=disparities, n_boot=n_boot, confidence=confidence
    )
