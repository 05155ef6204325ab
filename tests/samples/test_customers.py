"""The generated customer table: realistic, seeded, and carrying a sensitive column."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest

from keel.samples import customers_table


def test_same_seed_same_table_and_plausible_values() -> None:
    a, b = customers_table(2000, seed=3), customers_table(2000, seed=3)
    assert a.equals(b)
    assert not a.equals(customers_table(2000, seed=4))
    assert a.num_rows == 2000 and "gender" in a.column_names and "churned" in a.column_names
    churn = pc.mean(a.column("churned").cast("int8")).as_py()
    assert 0.1 < churn < 0.5
    assert pc.min(a.column("age")).as_py() >= 18
    assert a.column("total_charges").null_count > 0  # new customers have no total yet
    assert len(set(a.column("customer_id").to_pylist())) == 2000


def test_churn_differs_by_gender_for_fairness_checks() -> None:
    t = customers_table(20000, seed=1)
    rate = {}
    for g in ("female", "male"):
        mask = pc.equal(t.column("gender"), g)
        rate[g] = pc.mean(pc.filter(t.column("churned"), mask).cast("int8")).as_py()
    assert rate["male"] - rate["female"] > 0.02


def test_rows_must_be_positive() -> None:
    with pytest.raises(ValueError, match="rows"):
        customers_table(0)
