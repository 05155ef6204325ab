"""Suites as YAML and as Python: round trips, edits, and malformed files reported by line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.core.errors import InvalidInput
from keel.validation.suite import ColumnRules, Suite, load_suite, parse_suite

from .conftest import churn_table


def _suite() -> Suite:
    from keel.validation.infer import infer_suite

    return infer_suite(
        churn_table(500, 1), name="churn", reference="churn/churn-train@v1", reference_digest=None
    )


def test_yaml_round_trips_and_edits_in_python(tmp_path: Path) -> None:
    suite = _suite()
    suite.columns["tenure"].max = 500.0
    suite.columns["plan"].domain = ["basic", "plus", "pro", "enterprise"]
    path = suite.save(tmp_path / "suites" / "churn.yaml")
    text = path.read_text()
    assert "tenure:" in text and "enterprise" in text and "correction: holm" in text
    loaded = load_suite(path)
    assert loaded == suite
    assert loaded.digest() == suite.digest()


def test_a_broken_yaml_file_is_reported_at_its_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: churn\ncolumns:\n  age: {min: 1, max: 2\n")
    with pytest.raises(InvalidInput, match=r"bad\.yaml:4:1: not valid YAML"):
        load_suite(path)


def test_a_value_of_the_wrong_kind_names_its_field_line_and_column() -> None:
    text = "name: churn\ncolumns:\n  age:\n    kind: integer\n    min: lots\n"
    with pytest.raises(InvalidInput, match=r"s\.yaml:5:5: columns\.age\.min: Input should be a valid number"):
        parse_suite(text, "s.yaml")


def test_unknown_rules_and_inverted_ranges_are_refused() -> None:
    with pytest.raises(InvalidInput, match=r":4:5: columns\.age\.maximum: Extra inputs"):
        parse_suite("name: churn\ncolumns:\n  age:\n    maximum: 3\n", "s.yaml")
    with pytest.raises(InvalidInput, match=r"min .* is above max"):
        parse_suite("name: churn\ncolumns:\n  age:\n    min: 5\n    max: 1\n", "s.yaml")
    with pytest.raises(InvalidInput, match=r"a suite is a mapping"):
        parse_suite("- just\n- a list\n", "s.yaml")


def test_a_distribution_test_needs_a_reference() -> None:
    with pytest.raises(ValueError, match="names no reference"):
        Suite(name="x", columns={"age": ColumnRules(distribution=True)})


def test_a_missing_suite_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read suite"):
        load_suite(tmp_path / "nope.yaml")


def test_integer_codes_get_a_domain_and_counts_with_a_rare_tail_do_not() -> None:
    import numpy as np
    import pyarrow as pa

    from keel.validation.infer import infer_column

    rng = np.random.default_rng(0)
    codes = pa.array(rng.choice([1, 2, 3], 5000))
    counts = pa.array(rng.poisson(1.5, 5000))  # values up to ~8, the top ones seen a handful of times
    assert infer_column(codes, codes.type).domain == [1, 2, 3]
    rules = infer_column(counts, counts.type)
    assert rules.domain is None and rules.min == 0 and rules.distribution
