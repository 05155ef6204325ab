"""The built-in drift tests, registered in ``keel.drift_tests`` exactly as a third party's are.

Each test compares a stored reference feature (:mod:`keel.stats.drift_reference`)
with a window's, on whole columns:

- ``ks`` (numeric): two-sample Kolmogorov-Smirnov. The reference is already
  sorted, so a check sorts only the window and costs O(m log n) for a
  window of m values; the p-value is scipy's (``exact`` up to 10,000 values,
  then the finite-n Kolmogorov distribution, as ``scipy.stats.ks_2samp``
  chooses) up to an effective 100,000 values, and Kolmogorov's limit with
  Stephens' correction beyond (tests hold both against scipy).
- ``wasserstein`` (numeric): the earth mover's distance divided by the
  reference's standard deviation, so one threshold (0.1) fits every scale.
- ``psi`` (numeric and categorical): population stability index over the
  reference's deciles or over the categories; 0.2 is the usual "shifted".
- ``chi2`` (categorical): chi-square test of homogeneity of the 2 x K table of
  both samples' counts (a two-sample test; a goodness-of-fit test against the
  reference's frequencies alarms far above its nominal rate).
- ``jensen_shannon`` (categorical): the Jensen-Shannon distance (base 2, in
  [0, 1]) between the two category distributions; 0.1 is the usual threshold.

A test with ``measure = "p_value"`` is judged against the monitor's alpha
after correcting across features; a ``"distance"`` against its threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, Protocol

import numpy as np
import numpy.typing as npt

from keel.stats.drift_reference import (
    CategoricalReference,
    CategoricalSample,
    ColumnReference,
    ColumnSample,
    FeatureKind,
    Floats,
    NumericReference,
    NumericSample,
    bin_counts,
)
from keel.stats.tests import chi2_two_sample, psi_from_counts

Measure = Literal["p_value", "distance"]
#: Up to this many values in the larger sample, KS p-values are exact (scipy's own cut-off).
KS_EXACT_MAX: Final = 10_000
#: Beyond this effective sample size (n*m/(n+m)), Kolmogorov's limit with Stephens' correction replaces
#: scipy's finite-n distribution, which costs half a second of CPU per column there and differs by
#: under 0.2 % at the p-values that decide (and 2.5 % at 1e-44).
KS_LIMIT_N: Final = 100_000


@dataclass(frozen=True)
class Outcome:
    """What one test found: its statistic, p-value (None for a distance) and effect size."""

    statistic: float
    p_value: float | None
    effect: float


class DriftTest(Protocol):
    """A drift test: what it takes (``kinds``), how it is judged, and the comparison itself.

    ``threshold`` is the distance at or above which a ``"distance"`` test calls
    drift (unused for ``"p_value"`` tests, which the monitor's alpha judges).
    """

    name: str
    kinds: frozenset[FeatureKind]
    measure: Measure
    threshold: float

    def run(self, reference: ColumnReference, current: ColumnSample) -> Outcome: ...


def _numeric(reference: ColumnReference, current: ColumnSample) -> tuple[Floats, Floats]:
    if not isinstance(reference, NumericReference) or not isinstance(current, NumericSample):
        raise TypeError("this test takes numeric features")
    if reference.values.size == 0 or current.values.size == 0:
        raise ValueError("a two-sample test needs values in both samples")
    return reference.values, current.values


def _categorical(reference: ColumnReference, current: ColumnSample) -> tuple[dict[str, int], dict[str, int]]:
    if not isinstance(reference, CategoricalReference) or not isinstance(current, CategoricalSample):
        raise TypeError("this test takes categorical features")
    if not reference.counts or not current.counts:
        raise ValueError("a two-sample test needs values in both samples")
    return reference.counts, current.counts


def ks_sorted(a: Floats, b: Floats) -> tuple[float, float]:
    """KS distance and two-sided p-value of two *sorted* samples, equal to ``scipy.stats.ks_2samp``'s."""
    n, m = a.size, b.size
    if max(n, m) <= KS_EXACT_MAX:
        from scipy.stats import ks_2samp

        result = ks_2samp(a, b, method="auto")
        return float(result.statistic), float(result.pvalue)
    # Between two consecutive values of b, F_b is flat and F_a rises, so |F_a - F_b| is largest at
    # either end: just below a value of b or at it. Four counts per value of b suffice, two of them
    # binary searches in the (sorted, stored) reference and two read off b's own runs of ties: the
    # cost is O(m log n) for a window of m values, with nothing proportional to the reference.
    below_a = np.searchsorted(a, b, side="left") / n
    upto_a = np.searchsorted(a, b, side="right") / n
    below_b, upto_b = _tie_bounds(b)
    distance = float(max(np.abs(below_a - below_b / m).max(), np.abs(upto_a - upto_b / m).max()))
    big, small = max(n, m), min(n, m)
    effective = big * small / (big + small)
    if effective <= KS_LIMIT_N:
        from scipy.stats import kstwo

        p_value = float(np.clip(kstwo.sf(distance, np.round(effective)), 0.0, 1.0))
    else:
        from scipy.stats import kstwobign

        root = np.sqrt(effective)
        p_value = float(np.clip(kstwobign.sf(distance * (root + 0.12 + 0.11 / root)), 0.0, 1.0))
    return distance, p_value


def _tie_bounds(b: Floats) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """For each value of sorted ``b``: how many values are below it and how many at or below it (O(m))."""
    m = b.size
    starts = np.flatnonzero(np.r_[True, b[1:] != b[:-1]])  # first index of each run of equal values
    ends = np.r_[starts[1:], m]  # one past its last index
    run = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, m]))
    return starts[run], ends[run]


def wasserstein_sorted(a: Floats, b: Floats) -> float:
    """The 1-Wasserstein distance of two sorted samples (``scipy.stats.wasserstein_distance``'s value)."""
    both = np.concatenate([a, b])
    both.sort(kind="mergesort")  # two sorted runs: a merge
    deltas = np.diff(both)
    cdf_a = np.searchsorted(a, both[:-1], side="right") / a.size
    cdf_b = np.searchsorted(b, both[:-1], side="right") / b.size
    return float(np.sum(np.abs(cdf_a - cdf_b) * deltas))


class KS:
    """Two-sample Kolmogorov-Smirnov on a numeric feature; the KS distance is the effect."""

    name = "ks"
    kinds: frozenset[FeatureKind] = frozenset({"numeric"})
    measure: Measure = "p_value"
    threshold = 0.0

    def run(self, reference: ColumnReference, current: ColumnSample) -> Outcome:
        a, b = _numeric(reference, current)
        distance, p_value = ks_sorted(a, b)
        return Outcome(statistic=distance, p_value=p_value, effect=distance)


class Wasserstein:
    """Earth mover's distance in units of the reference's standard deviation."""

    name = "wasserstein"
    kinds: frozenset[FeatureKind] = frozenset({"numeric"})
    measure: Measure = "distance"
    threshold = 0.1

    def run(self, reference: ColumnReference, current: ColumnSample) -> Outcome:
        a, b = _numeric(reference, current)
        assert isinstance(reference, NumericReference)
        scale = reference.std or 1.0
        distance = wasserstein_sorted(a, b) / scale
        return Outcome(statistic=distance, p_value=None, effect=distance)


class PSI:
    """Population stability index over the reference's deciles (numeric) or the categories."""

    name = "psi"
    kinds: frozenset[FeatureKind] = frozenset({"numeric", "categorical"})
    measure: Measure = "distance"
    threshold = 0.2

    def run(self, reference: ColumnReference, current: ColumnSample) -> Outcome:
        if isinstance(reference, NumericReference):
            _, b = _numeric(reference, current)
            value = psi_from_counts(reference.psi_counts, bin_counts(b, reference.psi_edges))
        else:
            ref, cur = _categorical(reference, current)
            keys = sorted(set(ref) | set(cur))
            value = psi_from_counts([ref.get(k, 0) for k in keys], [cur.get(k, 0) for k in keys])
        return Outcome(statistic=value, p_value=None, effect=value)


class ChiSquare:
    """Chi-square test of homogeneity on both samples' category counts; PSI is the effect."""

    name = "chi2"
    kinds: frozenset[FeatureKind] = frozenset({"categorical"})
    measure: Measure = "p_value"
    threshold = 0.0

    def run(self, reference: ColumnReference, current: ColumnSample) -> Outcome:
        ref, cur = _categorical(reference, current)
        result = chi2_two_sample(ref, cur)
        return Outcome(statistic=result.statistic, p_value=result.p_value, effect=result.effect)


class JensenShannon:
    """Jensen-Shannon distance (base 2, from 0 to 1) between the category distributions."""

    name = "jensen_shannon"
    kinds: frozenset[FeatureKind] = frozenset({"categorical"})
    measure: Measure = "distance"
    threshold = 0.1

    def run(self, reference: ColumnReference, current: ColumnSample) -> Outcome:
        from scipy.spatial.distance import jensenshannon

        ref, cur = _categorical(reference, current)
        keys = sorted(set(ref) | set(cur))
        p = np.array([ref.get(k, 0) for k in keys], dtype=np.float64)
        q = np.array([cur.get(k, 0) for k in keys], dtype=np.float64)
        value = float(jensenshannon(p / p.sum(), q / q.sum(), base=2.0))
        return Outcome(statistic=value, p_value=None, effect=value)


def missing_share_test(reference: ColumnReference, current: ColumnSample) -> Outcome:
    """Whether the share of missing values changed: chi-square on the 2 x 2 table (missing, present).

    The effect is the change in the missing share (current minus reference).
    """
    from scipy.stats import chi2_contingency

    table = np.array(
        [
            [reference.nulls, reference.rows - reference.nulls],
            [current.nulls, current.rows - current.nulls],
        ],
        dtype=np.float64,
    )
    effect = float(table[1, 0] / max(current.rows, 1) - table[0, 0] / max(reference.rows, 1))
    if table[:, 0].sum() == 0 or table[:, 1].sum() == 0 or current.rows == 0 or reference.rows == 0:
        return Outcome(statistic=0.0, p_value=1.0, effect=effect)
    statistic, p_value, _, _ = chi2_contingency(table, correction=False)
    return Outcome(statistic=float(statistic), p_value=float(p_value), effect=effect)


ks = KS()
wasserstein = Wasserstein()
psi = PSI()
chi2 = ChiSquare()
jensen_shannon = JensenShannon()
