"""Run a suite over a table: every rule becomes a :class:`CheckResult` with its evidence.

Value rules (nulls, range, domain, uniqueness, format) fail on the rows that
break them and list a sample of those rows. Distribution tests are run for
every column that asks for one, then their p-values are corrected together
(:func:`keel.stats.tests.adjust`) and a column fails only when its corrected
p-value is below alpha and its effect size reaches the threshold. A column
the data lacks, or whose kind differs, fails its schema check and its value
rules are skipped (comparing text with a numeric range means nothing).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from keel.stats.checks import (
    Failures,
    as_array,
    columnar,
    duplicate_rows,
    missing,
    not_matching,
    out_of_range,
    outside_domain,
    repeated,
    robust_outliers,
)
from keel.stats.schema import column_kind
from keel.stats.tests import TestResult, adjust, chi2_two_sample, ks_two_sample
from keel.validation.schemas import Anomaly, CheckResult, FailingRow, Histogram
from keel.validation.suite import ColumnRules, Suite

_NUMERIC = ("integer", "float")
_HISTOGRAM_BINS = 20
_HISTOGRAM_LABELS = 20


def run_suite(
    table: pa.Table, suite: Suite, reference: pa.Table | None
) -> tuple[list[CheckResult], list[Anomaly]]:
    """Every check of ``suite`` on ``table`` (distributions against ``reference``), and the anomalies."""
    results = [_rows(table.num_rows, suite)]
    if not suite.allow_extra_columns:
        extra = [n for n in table.column_names if n not in suite.columns]
        results.append(
            CheckResult(
                check="extra_columns",
                verdict="fail" if extra else "pass",
                observed=extra,
                threshold=[],
                message=f"columns not in the suite: {', '.join(extra)}" if extra else "",
            )
        )
    # Columns are checked in a thread pool: Arrow's kernels release the GIL, so columns run side by side.
    from concurrent.futures import ThreadPoolExecutor

    names = list(suite.columns)
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        per_column = list(pool.map(lambda n: _one_column(n, suite.columns[n], table, reference), names))
    pending: list[tuple[CheckResult, TestResult]] = []
    for checks, test in per_column:
        results.extend(checks)
        if test is not None:
            pending.append((checks[-1], test))
    _decide(pending, suite)
    return results, _anomalies(table, suite)


def _one_column(
    name: str, rules: ColumnRules, table: pa.Table, reference: pa.Table | None
) -> tuple[list[CheckResult], TestResult | None]:
    """One column's checks, its distribution check last, with its test when one ran."""
    if name not in table.column_names:
        missing_column = CheckResult(
            check="present",
            column=name,
            verdict="fail",
            observed="missing",
            threshold="present",
            message=f"the data has no column {name!r}",
        )
        return [missing_column], None
    column = columnar(table.column(name))
    checks = _column_checks(name, column, rules)
    if rules.distribution and rules.kind in (None, column_kind(column.type)):
        result, test = _distribution(name, column, rules, reference)
        return [*checks, result], test
    return checks, None


def _rows(rows: int, suite: Suite) -> CheckResult:
    low, high = suite.rows.min, suite.rows.max
    bad = (low is not None and rows < low) or (high is not None and rows > high)
    return CheckResult(
        check="rows",
        verdict="fail" if bad else "pass",
        observed=rows,
        threshold=[low, high],
        message=f"{rows} rows, expected between {low} and {high}" if bad else "",
    )


def _from(check: str, name: str, found: Failures, observed: Any, threshold: Any, what: str) -> CheckResult:
    return CheckResult(
        check=check,
        column=name,
        verdict="fail" if found.count else "pass",
        observed=observed,
        threshold=threshold,
        message=f"{found.count} row(s) {what}" if found.count else "",
        failing_count=found.count,
        failing_rows=[FailingRow(index=i, value=v) for i, v in found.rows],
    )


def _column_checks(name: str, column: pa.Array, rules: ColumnRules) -> list[CheckResult]:
    out: list[CheckResult] = []
    kind = column_kind(column.type)
    if rules.type is not None:
        same = str(column.type) == rules.type
        out.append(
            CheckResult(
                check="type",
                column=name,
                verdict="pass" if same else "fail",
                observed=str(column.type),
                threshold=rules.type,
                message="" if same else f"type is {column.type}, the suite expects {rules.type}",
            )
        )
    if rules.kind is not None and kind != rules.kind:
        out.append(
            CheckResult(
                check="values",
                column=name,
                verdict="skip",
                message=f"value rules skipped: the column holds {kind} values, the suite expects {rules.kind}",
            )
        )
        return out
    nulls = missing(column)
    rows = len(column)
    if rows:
        limit = rules.max_null_rate if rules.nullable else 0.0
        rate = nulls.count / rows
        result = _from("null_rate", name, nulls, round(rate, 6), limit, "are null")
        result.verdict = "fail" if limit is not None and rate > limit else "pass"
        if result.verdict == "pass":
            result.message, result.failing_rows = "", []
        else:
            result.message = f"null rate {rate:.4f} above {limit}"
        out.append(result)
    if (rules.min is not None or rules.max is not None) and kind in _NUMERIC:
        low, high = rules.bounds()
        found = out_of_range(column, low, high)
        out.append(_from("range", name, found, _min_max(column), [low, high], "out of range"))
    if rules.domain is not None:
        found = outside_domain(column, _typed(rules.domain, column))
        unseen = sorted({str(v) for _, v in found.rows})
        out.append(_from("domain", name, found, unseen, rules.domain, "outside the domain"))
    if rules.unique:
        found = repeated(column)
        out.append(_from("unique", name, found, found.count, "unique", "repeat an earlier value"))
    if rules.pattern is not None and kind == "string":
        found = not_matching(column, rules.pattern)
        out.append(_from("pattern", name, found, found.count, rules.pattern, "do not match the pattern"))
    return out


def _typed(domain: list[Any], column: pa.Array) -> list[Any]:
    """The domain's values in the column's type (YAML may hold ``1`` for a text column's ``"1"``)."""
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return [str(v) for v in domain]
    if pa.types.is_integer(column.type):
        return [int(v) for v in domain if isinstance(v, int | bool) or str(v).lstrip("-").isdigit()]
    return domain


def _min_max(column: pa.Array) -> list[Any]:
    low, high = pc.min_max(column).values()
    return [low.as_py(), high.as_py()]


def _values(column: pa.Array) -> np.ndarray[Any, np.dtype[np.float64]]:
    arr: np.ndarray[Any, np.dtype[np.float64]] = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    finite: np.ndarray[Any, np.dtype[np.float64]] = arr[np.isfinite(arr)]
    return finite


def _counts(column: pa.Array) -> dict[str, int]:
    counts = pc.value_counts(column.filter(pc.is_valid(column)))
    return {
        str(v): int(c)
        for v, c in zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True)
    }


def _distribution(
    name: str, column: pa.Array, rules: ColumnRules, reference: pa.Table | None
) -> tuple[CheckResult, TestResult | None]:
    result = CheckResult(check="distribution", column=name, verdict="skip")
    if reference is None or name not in reference.column_names:
        result.message = "no reference column to compare with"
        return result, None
    ref = as_array(reference.column(name))
    try:
        if rules.domain is not None or column_kind(column.type) not in _NUMERIC:
            ref_counts, new_counts = _counts(ref), _counts(column)
            test = chi2_two_sample(ref_counts, new_counts)
            labels = sorted(ref_counts, key=lambda k: -ref_counts[k])[:_HISTOGRAM_LABELS]
            labels += [k for k in new_counts if k not in ref_counts][: _HISTOGRAM_LABELS // 2]
            result.histogram = Histogram(
                labels=labels,
                reference=[ref_counts.get(k, 0) for k in labels],
                new=[new_counts.get(k, 0) for k in labels],
            )
            result.observed = {"chi2": round(test.statistic, 4), "psi": round(test.effect, 4)}
        else:
            a, b = _values(ref), _values(column)
            test = ks_two_sample(a, b)
            low, high = float(min(a.min(), b.min())), float(max(a.max(), b.max()))
            edges = np.linspace(low, high if high > low else low + 1.0, _HISTOGRAM_BINS + 1)
            result.histogram = Histogram(
                edges=[float(e) for e in edges],
                reference=[int(c) for c in np.histogram(a, edges)[0]],
                new=[int(c) for c in np.histogram(b, edges)[0]],
            )
            result.observed = {"ks": round(test.statistic, 4)}
    except ValueError as exc:
        result.message = f"not compared: {exc}"
        return result, None
    result.p_value, result.effect = test.p_value, test.effect
    return result, test


def _decide(pending: list[tuple[CheckResult, TestResult]], suite: Suite) -> None:
    """Correct the p-values together, then fail where both the corrected p and the effect say so."""
    rules = suite.distribution
    adjusted = adjust([t.p_value for _, t in pending], rules.correction)
    for (result, test), p in zip(pending, adjusted, strict=True):
        categorical = result.histogram is not None and bool(result.histogram.labels)
        limit = rules.psi_threshold if categorical else rules.ks_threshold
        effect_name = "PSI" if categorical else "KS distance"
        result.adjusted_p = p
        result.threshold = {"alpha": rules.alpha, "correction": rules.correction, effect_name: limit}
        drifted = p < rules.alpha and test.effect >= limit
        result.verdict = "fail" if drifted else "pass"
        if drifted:
            result.message = (
                f"distribution differs from the reference: {effect_name} {test.effect:.3f} >= {limit}, "
                f"adjusted p {p:.2g} < {rules.alpha}"
            )


def _anomalies(table: pa.Table, suite: Suite) -> list[Anomaly]:
    found: list[Anomaly] = []
    for name in table.column_names if suite.anomalies.outliers else []:
        column = as_array(table.column(name))
        if column_kind(column.type) not in _NUMERIC or pa.types.is_boolean(column.type):
            continue
        outliers = robust_outliers(column, suite.anomalies.z)
        if outliers.count:
            found.append(
                Anomaly(
                    kind="outliers",
                    column=name,
                    count=outliers.count,
                    rows=[FailingRow(index=i, value=v) for i, v in outliers.rows],
                )
            )
    if suite.anomalies.duplicate_rows:
        dup = duplicate_rows(table)
        if dup.count:
            found.append(
                Anomaly(
                    kind="duplicate_rows",
                    count=dup.count,
                    rows=[FailingRow(index=i, value=v) for i, v in dup.rows],
                )
            )
    return found
