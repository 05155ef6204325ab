"""Calibrated two-sample tests, an effect size (PSI), and multiple-testing corrections.

Both samples are treated as samples: a drift test compares a reference
*sample* with a new one, so the reference's own noise belongs in the test.
A goodness-of-fit chi-square against the reference's frequencies treats them
as the truth and flags far more than its nominal rate when the reference is
small; the contingency-table test here does not (a test over clean batches
holds its false-positive rate). Validation suites and drift monitors both use
these functions, so a column drifts by the same rule everywhere.

A suite tests many columns at once; :func:`adjust` corrects the p-values
across them (Holm's step-down, which controls the family-wise error rate, or
Benjamini-Hochberg, which controls the false discovery rate), so a 50-column
suite does not fail most clean batches by chance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

Correction = Literal["holm", "bh", "none"]
#: Added to every bin's share before the PSI's logarithm, so an empty bin gives a large, finite value.
PSI_EPSILON = 1e-4


@dataclass(frozen=True)
class TestResult:
    """A two-sample test's statistic, p-value and effect size (KS distance or PSI)."""

    statistic: float
    p_value: float
    effect: float

    __test__ = False  # not a pytest test class, despite the name


def ks_two_sample(reference: npt.ArrayLike, new: npt.ArrayLike) -> TestResult:
    """Two-sample Kolmogorov-Smirnov: the statistic (the KS distance) is also the effect size.

    Raises ValueError when either sample is empty (the caller reports it as a skipped check).
    """
    from scipy.stats import ks_2samp

    a = np.asarray(reference, dtype=np.float64)
    b = np.asarray(new, dtype=np.float64)
    if a.size == 0 or b.size == 0:
        raise ValueError("a two-sample test needs values in both samples")
    result = ks_2samp(a, b, method="asymp")
    statistic = float(result.statistic)
    return TestResult(statistic=statistic, p_value=float(result.pvalue), effect=statistic)


def chi2_two_sample(reference: Mapping[str, int], new: Mapping[str, int]) -> TestResult:
    """Chi-square test of homogeneity on the 2 x K table of both samples' category counts.

    The effect size is the PSI between the two samples' shares. Categories
    seen in neither sample are dropped; with one category left the samples
    cannot differ and the p-value is 1.
    """
    from scipy.stats import chi2_contingency

    categories = sorted(k for k in set(reference) | set(new) if reference.get(k, 0) + new.get(k, 0) > 0)
    ref = np.array([reference.get(k, 0) for k in categories], dtype=np.float64)
    cur = np.array([new.get(k, 0) for k in categories], dtype=np.float64)
    if ref.sum() == 0 or cur.sum() == 0:
        raise ValueError("a two-sample test needs values in both samples")
    effect = psi_from_counts(ref, cur)
    if len(categories) < 2:
        return TestResult(statistic=0.0, p_value=1.0, effect=effect)
    statistic, p_value, _, _ = chi2_contingency(np.vstack([ref, cur]), correction=False)
    return TestResult(statistic=float(statistic), p_value=float(p_value), effect=effect)


def psi_from_counts(reference: npt.ArrayLike, new: npt.ArrayLike) -> float:
    """Population stability index between two count vectors over the same bins."""
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(new, dtype=np.float64)
    p = ref / ref.sum() + PSI_EPSILON
    q = cur / cur.sum() + PSI_EPSILON
    return float(np.sum((q - p) * np.log(q / p)))


def quantile_edges(reference: npt.ArrayLike, bins: int = 10) -> npt.NDArray[np.float64]:
    """Bin edges at the reference's quantiles (repeated edges of discrete data merged)."""
    values = np.asarray(reference, dtype=np.float64)
    edges = np.unique(np.quantile(values, np.linspace(0.0, 1.0, bins + 1)))
    if edges.size < 2:
        edges = np.array([edges[0] - 0.5, edges[0] + 0.5])
    return edges


def binned_counts(values: npt.ArrayLike, edges: Sequence[float] | npt.NDArray[np.float64]) -> list[int]:
    """Counts of ``values`` in the bins ``edges`` makes; values outside go to the outer bins."""
    arr = np.asarray(values, dtype=np.float64)
    inner = np.asarray(edges, dtype=np.float64)[1:-1]
    index = np.searchsorted(inner, arr, side="right")
    return [int(c) for c in np.bincount(index, minlength=len(edges) - 1)]


def psi_numeric(reference: npt.ArrayLike, new: npt.ArrayLike, bins: int = 10) -> float:
    """PSI of a numeric column over the reference's quantile bins."""
    edges = quantile_edges(reference, bins)
    return psi_from_counts(binned_counts(reference, edges), binned_counts(new, edges))


def adjust(p_values: Sequence[float], method: Correction) -> list[float]:
    """P-values adjusted for testing them together (Holm, Benjamini-Hochberg, or unchanged).

    Compare each adjusted value with the suite's alpha: Holm keeps the chance
    of any false alarm across the family at alpha; BH keeps the expected share
    of false alarms among the alarms at alpha.
    """
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if m == 0 or method == "none":
        return [float(x) for x in p]
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    if method == "holm":
        scaled = np.maximum.accumulate(ranked * (m - np.arange(m)))
    elif method == "bh":
        scaled = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
    else:
        raise ValueError(f"unknown correction {method!r}: holm, bh or none")
    out = np.empty(m)
    out[order] = np.minimum(scaled, 1.0)
    return [float(x) for x in out]
