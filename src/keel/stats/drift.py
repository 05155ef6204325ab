"""Drift between a stored reference and a window: per-feature tests, corrected verdicts, the drifted share.

Tests are plugins. The entry-point group ``keel.drift_tests`` maps a test's
name to an object with the :class:`~keel.stats.drift_tests.DriftTest` shape;
Keel's own (``ks``, ``wasserstein``, ``psi``, ``chi2``, ``jensen_shannon``)
are declared in its ``pyproject.toml`` the same way a third party declares
one::

    [project.entry-points."keel.drift_tests"]
    energy = "my_package.drift:energy"

A monitor lists the tests per feature kind; the **first** of each list
decides a feature's verdict, the others add effect sizes (each with its own
verdict, for reading only). Deciding p-values, and the missing-values test
of every feature with missing values on either side, form one family
corrected by Holm (default) or Benjamini-Hochberg, so a 50-feature monitor
does not cry drift on most clean windows; distances are judged against their
test's threshold. A feature drifts when its deciding test or its missing
values test says so; the report gives the share of drifted features.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final, Protocol

import numpy as np
from pydantic import BaseModel

from keel.core.errors import ConfigError, InvalidInput
from keel.stats.drift_reference import (
    CategoricalReference,
    ColumnReference,
    ColumnSample,
    FeatureKind,
    Floats,
    NumericReference,
    NumericSample,
    sample_of,
)
from keel.stats.tests import Correction, adjust

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    import pyarrow as pa

    from keel.stats.drift_tests import DriftTest, Outcome

GROUP: Final = "keel.drift_tests"
DEFAULT_TESTS: Final[Mapping[FeatureKind, tuple[str, ...]]] = {
    "numeric": ("ks", "wasserstein", "psi"),
    "categorical": ("chi2", "psi", "jensen_shannon"),
}
HISTOGRAM_BINS: Final = 20
HISTOGRAM_CATEGORIES: Final = 15


class TestVerdict(BaseModel):
    """One test on one feature: statistic, p-value (raw and corrected) or distance, and its verdict."""

    __test__ = False  # not a pytest class

    test: str
    measure: str
    statistic: float
    p_value: float | None = None
    adjusted_p: float | None = None
    threshold: float | None = None
    effect: float
    drifted: bool


class DriftHistogram(BaseModel):
    """Reference and window shares over the same bins (numeric: ``edges``; categorical: ``labels``)."""

    edges: list[float] = []
    labels: list[str] = []
    reference: list[float]
    current: list[float]


class FeatureDrift(BaseModel):
    """One feature's verdict, the test that decided it, every test's figures, and what the window held."""

    name: str
    kind: str
    drifted: bool
    decided_by: str
    tests: list[TestVerdict]
    missing: TestVerdict
    reference_rows: int
    current_rows: int
    reference_missing_share: float
    current_missing_share: float
    new_categories: dict[str, int] = {}
    skipped: str | None = None
    histogram: DriftHistogram | None = None


class DriftResult(BaseModel):
    """Every feature's verdict, the drifted ones, and their share of the features tested."""

    features: list[FeatureDrift]
    drifted: list[str]
    share: float
    alpha: float
    correction: str
    rows: int


@functools.cache
def registered() -> dict[str, EntryPoint]:
    """Every installed drift test's entry point by name (Keel's own included); read once per process."""
    from importlib.metadata import entry_points

    found: dict[str, EntryPoint] = {}
    for point in entry_points(group=GROUP):
        previous = found.setdefault(point.name, point)
        if previous.value != point.value:
            raise ConfigError(
                f"two packages register the drift test {point.name!r}: {previous.value} and {point.value}",
                hint="uninstall one of them",
            )
    return found


def forget_registered() -> None:
    """Read the entry points afresh (after installing a package into a running process)."""
    registered.cache_clear()
    drift_test.cache_clear()


@functools.cache
def drift_test(name: str) -> DriftTest:
    """The drift test registered as ``name``. Raises InvalidInput naming the registered ones."""
    point = registered().get(name)
    if point is None:
        raise InvalidInput(f"no drift test {name!r}; registered: {', '.join(sorted(registered())) or 'none'}")
    loaded = point.load()
    test: DriftTest = loaded() if isinstance(loaded, type) else loaded
    for attribute in ("name", "kinds", "measure", "threshold", "run"):
        if not hasattr(test, attribute):
            raise ConfigError(f"drift test {name!r} ({point.value}) has no {attribute!r}")
    return test


def check_tests(tests: Mapping[str, Sequence[str]]) -> dict[FeatureKind, tuple[str, ...]]:
    """Tests per kind, checked: known kinds, at least one test each, each registered and taking that kind."""
    out: dict[FeatureKind, tuple[str, ...]] = dict(DEFAULT_TESTS)
    for text, names in tests.items():
        if text == "numeric":
            kind: FeatureKind = "numeric"
        elif text == "categorical":
            kind = "categorical"
        else:
            raise InvalidInput(f"tests: {text!r} is not a feature kind (numeric or categorical)")
        if not names:
            raise InvalidInput(f"tests: {kind} needs at least one test (the first decides)")
        for name in names:
            if kind not in drift_test(name).kinds:
                raise InvalidInput(f"tests: {name!r} does not take {kind} features")
        out[kind] = tuple(names)
    return out


def _histogram(reference: ColumnReference, current: ColumnSample) -> DriftHistogram:
    if isinstance(reference, NumericReference):
        assert isinstance(current, NumericSample)
        values = [v for v in (reference.values, current.values) if v.size]
        low = min(float(v[0]) for v in values)
        high = max(float(v[-1]) for v in values)
        edges = np.linspace(low, high if high > low else low + 1.0, HISTOGRAM_BINS + 1)

        def shares(v: Floats) -> list[float]:
            index = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, HISTOGRAM_BINS - 1)
            counts = np.bincount(index, minlength=HISTOGRAM_BINS)
            return [float(c) / max(v.size, 1) for c in counts]

        return DriftHistogram(
            edges=[float(e) for e in edges],
            reference=shares(reference.values),
            current=shares(current.values),
        )
    assert isinstance(reference, CategoricalReference)
    cur_counts: dict[str, int] = getattr(current, "counts", {})
    ref_total = max(sum(reference.counts.values()), 1)
    cur_total = max(sum(cur_counts.values()), 1)
    keys = sorted(
        set(reference.counts) | set(cur_counts),
        key=lambda k: -(reference.counts.get(k, 0) / ref_total + cur_counts.get(k, 0) / cur_total),
    )
    shown = keys[:HISTOGRAM_CATEGORIES]
    ref_shares = [reference.counts.get(k, 0) / ref_total for k in shown]
    cur_shares = [cur_counts.get(k, 0) / cur_total for k in shown]
    if len(keys) > len(shown):
        shown = [*shown, "(other)"]
        ref_shares.append(1.0 - sum(ref_shares))
        cur_shares.append(1.0 - sum(cur_shares))
    return DriftHistogram(labels=shown, reference=ref_shares, current=cur_shares)


class _Judged(Protocol):
    """What judging an outcome reads of its test."""

    @property
    def name(self) -> str: ...
    @property
    def measure(self) -> str: ...
    @property
    def threshold(self) -> float: ...


def _verdict(test: _Judged, outcome: Outcome, alpha: float) -> TestVerdict:
    if test.measure == "p_value":
        assert outcome.p_value is not None
        return TestVerdict(
            test=test.name,
            measure="p_value",
            statistic=outcome.statistic,
            p_value=outcome.p_value,
            effect=outcome.effect,
            drifted=outcome.p_value < alpha,
        )
    return TestVerdict(
        test=test.name,
        measure="distance",
        statistic=outcome.statistic,
        threshold=test.threshold,
        effect=outcome.effect,
        drifted=outcome.statistic >= test.threshold,
    )


def detect(
    references: Mapping[str, ColumnReference],
    table: pa.Table,
    *,
    alpha: float = 0.05,
    correction: Correction = "holm",
    tests: Mapping[str, Sequence[str]] | None = None,
    histograms: bool = True,
) -> DriftResult:
    """Compare ``table`` (a window) with the reference, feature by feature.

    Raises InvalidInput for an empty window, a missing feature, or a bad
    alpha; a feature whose window holds no values is reported as skipped
    (its missing-values test still runs and says so).
    """
    from keel.stats.drift_tests import missing_share_test

    if not 0.0 < alpha < 1.0:
        raise InvalidInput(f"alpha is {alpha}; it must be between 0 and 1")
    if table.num_rows == 0:
        raise InvalidInput("the window has no rows; there is nothing to compare with the reference")
    lacking = [name for name in references if name not in table.column_names]
    if lacking:
        raise InvalidInput(f"the window lacks the monitored column(s) {', '.join(lacking)}")
    per_kind = check_tests(tests or {})
    features: list[FeatureDrift] = []
    family: list[
        tuple[int, TestVerdict]
    ] = []  # (feature index, verdict) whose p-values are corrected together
    for index, (name, reference) in enumerate(references.items()):
        current = sample_of(table.column(name), reference.kind)
        names = per_kind[reference.kind]
        missing = _verdict(_MissingTest(), missing_share_test(reference, current), alpha)
        if reference.nulls or current.nulls:
            family.append((index, missing))
        has_values = bool(current.values.size if isinstance(current, NumericSample) else current.counts)
        ref_has_values = bool(
            reference.values.size if isinstance(reference, NumericReference) else reference.counts
        )
        verdicts: list[TestVerdict] = []
        skipped = None
        if has_values and ref_has_values:
            for position, test_name in enumerate(names):
                test = drift_test(test_name)
                verdict = _verdict(test, test.run(reference, current), alpha)
                verdicts.append(verdict)
                if position == 0 and verdict.measure == "p_value":
                    family.append((index, verdict))
        else:
            skipped = "no values in the window" if not has_values else "no values in the reference"
        new_categories: dict[str, int] = {}
        if isinstance(reference, CategoricalReference):
            counts: dict[str, int] = getattr(current, "counts", {})
            new_categories = {k: v for k, v in counts.items() if k not in reference.counts}
        features.append(
            FeatureDrift(
                name=name,
                kind=reference.kind,
                drifted=False,
                decided_by=names[0],
                tests=verdicts,
                missing=missing,
                reference_rows=reference.rows,
                current_rows=current.rows,
                reference_missing_share=reference.nulls / max(reference.rows, 1),
                current_missing_share=current.nulls / max(current.rows, 1),
                new_categories=dict(sorted(new_categories.items(), key=lambda kv: -kv[1])[:20]),
                skipped=skipped,
                histogram=_histogram(reference, current)
                if histograms and has_values and ref_has_values
                else None,
            )
        )
    adjusted = adjust([v.p_value or 0.0 for _, v in family], correction)
    for (_, verdict), p in zip(family, adjusted, strict=True):
        verdict.adjusted_p = p
        verdict.drifted = p < alpha
    for feature in features:
        deciding = feature.tests[0] if feature.tests else None
        feature.drifted = bool((deciding is not None and deciding.drifted) or feature.missing.drifted)
    drifted = [f.name for f in features if f.drifted]
    return DriftResult(
        features=features,
        drifted=drifted,
        share=len(drifted) / len(features) if features else 0.0,
        alpha=alpha,
        correction=correction,
        rows=table.num_rows,
    )


class _MissingTest:
    """The missing-values test in the shape :func:`_verdict` reads (always on; not a plugin)."""

    name = "missing"
    measure = "p_value"
    threshold = 0.0
