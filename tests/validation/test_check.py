"""Inferring a suite and running it over tables: verdicts, failing rows, bad data, and calibration."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from keel.core.errors import InvalidInput
from keel.validation.check import run_suite
from keel.validation.infer import infer_suite
from keel.validation.schemas import CheckResult
from keel.validation.suite import Suite

from .conftest import churn_table

REF = "churn/churn-train@v1"


def _by(results: list[CheckResult], check: str, column: str | None) -> CheckResult:
    return next(r for r in results if r.check == check and r.column == column)


def test_inference_describes_the_reference() -> None:
    suite = infer_suite(churn_table(2000, 1), name="churn", reference=REF, reference_digest=None)
    ident, tenure, spend = suite.columns["customer_id"], suite.columns["tenure"], suite.columns["spend"]
    assert ident.unique and ident.min is None and not ident.distribution  # ids grow: no range, no drift test
    assert (
        tenure.kind == "float" and tenure.min is not None and tenure.tolerance == 0.5 and tenure.distribution
    )
    assert spend.nullable and spend.max_null_rate is not None and 0.1 < spend.max_null_rate < 0.2
    assert suite.columns["plan"].domain == ["basic", "plus", "pro"]
    assert suite.columns["churned"].domain == [False, True]
    assert suite.columns["email"].pattern is not None and suite.columns["email"].unique


def test_a_clean_batch_passes_and_a_drifted_corrupted_one_fails_with_rows() -> None:
    reference = churn_table(3000, 1)
    suite = infer_suite(reference, name="churn", reference=REF, reference_digest=None)
    clean, _ = run_suite(churn_table(1000, 2), suite, reference)
    assert [r for r in clean if r.verdict == "fail"] == []
    bad = churn_table(1000, 3, shift=1.5, plans=("basic", "plus", "pro", "gold"))
    bad = bad.set_column(5, "email", pa.array(["not-an-email", *bad["email"].to_pylist()[1:]]))
    results, _ = run_suite(bad, suite, reference)
    failed = {(r.check, r.column) for r in results if r.verdict == "fail"}
    assert {
        ("distribution", "tenure"),
        ("distribution", "spend"),
        ("domain", "plan"),
        ("pattern", "email"),
    } <= failed
    domain = _by(results, "domain", "plan")
    assert domain.observed == ["gold"] and domain.failing_count > 0
    assert all(row.value == "gold" for row in domain.failing_rows)
    assert _by(results, "pattern", "email").failing_rows[0].index == 0
    drift = _by(results, "distribution", "tenure")
    assert drift.effect is not None and drift.effect >= 0.1 and drift.adjusted_p is not None
    assert drift.histogram is not None and len(drift.histogram.edges) == 21


def test_missing_columns_and_type_mismatches_fail_their_checks_and_skip_the_rest() -> None:
    reference = churn_table(500, 1)
    suite = infer_suite(reference, name="churn", reference=REF, reference_digest=None)
    new = churn_table(300, 2).drop_columns(["plan"])
    new = new.set_column(1, "tenure", pa.array([str(v) for v in new["tenure"].to_pylist()]))
    results, _ = run_suite(new, suite, reference)
    present = _by(results, "present", "plan")
    assert present.verdict == "fail" and "no column 'plan'" in present.message
    typed = _by(results, "type", "tenure")
    assert typed.verdict == "fail" and typed.observed == "string" and typed.threshold == "double"
    assert _by(results, "values", "tenure").verdict == "skip"
    assert not [r for r in results if r.column == "tenure" and r.check in ("range", "distribution")]


def test_empty_data_fails_the_row_count_and_an_empty_reference_is_refused() -> None:
    reference = churn_table(500, 1)
    suite = infer_suite(reference, name="churn", reference=REF, reference_digest=None)
    results, anomalies = run_suite(reference.slice(0, 0), suite, reference)
    rows = _by(results, "rows", None)
    assert rows.verdict == "fail" and rows.observed == 0
    assert _by(results, "distribution", "tenure").verdict == "skip"
    assert anomalies == []
    with pytest.raises(InvalidInput, match="has no rows"):
        infer_suite(reference.slice(0, 0), name="churn", reference=REF, reference_digest=None)


def test_an_all_null_column_is_inferred_as_such_and_caught_when_it_goes_null() -> None:
    reference = churn_table(500, 1).append_column("notes", pa.array([None] * 500, type=pa.string()))
    suite = infer_suite(reference, name="churn", reference=REF, reference_digest=None)
    notes = suite.columns["notes"]
    assert notes.nullable and notes.max_null_rate == 1.0 and notes.domain is None and not notes.distribution
    new = churn_table(300, 2)
    new = new.set_column(2, "spend", pa.array([None] * 300, type=pa.float64()))
    new = new.append_column("notes", pa.array([None] * 300, type=pa.string()))
    results, _ = run_suite(new, suite, reference)
    spend = _by(results, "null_rate", "spend")
    assert spend.verdict == "fail" and spend.observed == 1.0 and spend.failing_rows[0].index == 0
    assert _by(results, "distribution", "spend").verdict == "skip"
    assert _by(results, "null_rate", "notes").verdict == "pass"


def test_anomalies_list_outliers_and_duplicate_rows_without_failing() -> None:
    reference = churn_table(500, 1)
    suite = infer_suite(reference, name="churn", reference=REF, reference_digest=None)
    new = churn_table(300, 2)
    new = pa.concat_tables([new, new.slice(0, 2)])
    results, anomalies = run_suite(new, suite, None)
    kinds = {a.kind: a for a in anomalies}
    assert kinds["duplicate_rows"].count == 2 and kinds["duplicate_rows"].rows[0].index == 300
    assert _by(results, "distribution", "tenure").verdict == "skip"  # no reference table handed in


def _wide(rows: int, seed: int) -> pa.Table:
    """50 columns: 40 numeric of assorted shapes, 10 categorical."""
    rng = np.random.default_rng(seed)
    columns: dict[str, pa.Array] = {}
    for i in range(40):
        columns[f"x{i}"] = pa.array(
            rng.gamma(1.0 + i % 5, 2.0, rows) if i % 2 else rng.normal(i, 1 + i % 3, rows)
        )
    for i in range(10):
        columns[f"c{i}"] = pa.array(rng.choice(["a", "b", "c", "d"], rows, p=[0.4, 0.3, 0.2, 0.1]))
    return pa.table(columns)


@pytest.mark.slow
def test_a_50_column_suite_does_not_fail_clean_batches_by_chance() -> None:
    """Over 20 seeds of clean batches: uncorrected per-column tests at 0.05 fail most batches;
    the suite's Holm correction plus effect-size thresholds fail almost none."""
    reference = _wide(4000, 0)
    suite = infer_suite(reference, name="wide", reference="p/wide@v1", reference_digest=None)
    naive = Suite.model_validate(
        {
            **suite.model_dump(),
            "distribution": {"correction": "none", "ks_threshold": 0.0, "psi_threshold": 0.0},
        }
    )
    suite_failures = naive_failures = 0
    seeds = range(1, 21)
    for seed in seeds:
        batch = _wide(1000, seed)
        results, _ = run_suite(batch, suite, reference)
        suite_failures += any(r.verdict == "fail" for r in results)
        naive_results, _ = run_suite(batch, naive, reference)
        naive_failures += any(r.verdict == "fail" for r in naive_results)
    assert naive_failures >= 12  # about 1 - 0.95**50 = 92% of batches
    assert suite_failures <= 1
    # and the corrected suite still sees a real shift in one column
    shifted = _wide(1000, 99)
    shifted = shifted.set_column(0, "x0", pa.array(np.asarray(shifted["x0"]) + 0.5))
    results, _ = run_suite(shifted, suite, reference)
    assert [r.column for r in results if r.verdict == "fail"] == ["x0"]


def test_value_checks_take_chunked_columns_and_sorted_ids() -> None:
    import pyarrow as pa

    from keel.stats.checks import columnar, missing, out_of_range, outside_domain, repeated

    ids = columnar(pa.chunked_array([[1, 2, 3], [4, 5, 7]]))
    assert repeated(ids).count == 0  # strictly increasing: unique without hashing
    again = columnar(pa.chunked_array([[3, 1, 2], [2, 9]]))
    assert repeated(again).rows == [(3, 2)]  # a row index across chunks
    values = columnar(pa.chunked_array([[1.0, None], [float("nan"), 20.0]]))
    assert out_of_range(values, 0.0, 10.0).rows == [(3, 20.0)]
    assert missing(values).count == 2
    plans = columnar(
        pa.chunked_array([pa.array(["a", "b"]).dictionary_encode(), pa.array(["z"]).dictionary_encode()])
    )
    assert outside_domain(plans, ["a", "b"]).rows == [(2, "z")]
