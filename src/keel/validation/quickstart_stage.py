"""The quickstart's validation stages: data admitted by a suite, and models validated before promotion.

:func:`data_stage` (after the data stage): a suite inferred from
``churn-train@v1`` and written as YAML; a new batch of customers passes it
and is versioned; a drifted and corrupted batch is refused (no version made),
with the failing checks named.

:func:`model_stage` (after the registry stage): two candidates that carry
their preprocessing, one fitted on the labels as they are and one on
historical labels that flagged men more often. Each is validated on a
holdout (metrics, KPIs, the production model as champion, the fairness KPI
with its bootstrap interval), and with the project's policy requiring that
evidence, the promotion gate takes the first and refuses the second.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from keel.quickstart import Quickstart

PROJECT: Final = "churn"
NUMERIC: Final = ["age", "tenure_months", "monthly_charges", "total_charges", "support_calls"]
CATEGORICAL: Final = ["region", "plan", "contract", "payment_method"]


def _drifted_and_corrupted(table: Any) -> Any:
    """A batch whose prices moved up 40 %, with an unknown plan and impossible ages in it."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    rows = table.num_rows
    rng = np.random.default_rng(5)
    charges = pc.round(pc.multiply(table.column("monthly_charges"), 1.4), 2)
    plan = np.asarray(table.column("plan").to_pylist(), dtype=object)
    plan[rng.random(rows) < 0.03] = "platinum"
    age = np.asarray(table.column("age").to_numpy(), dtype=np.int64).copy()
    age[rng.random(rows) < 0.02] = 150
    for name, values in (("monthly_charges", charges), ("plan", pa.array(plan)), ("age", pa.array(age))):
        table = table.set_column(table.schema.get_field_index(name), name, values)
    return table


def data_stage(qs: Quickstart) -> None:
    """Infer a suite from the training data; admit a clean batch, refuse a drifted and corrupted one."""
    import pyarrow.parquet as pq

    from keel.core.errors import CheckFailed
    from keel.data import add
    from keel.samples import customers_table

    client, directory = qs.client, qs.directory
    reference = qs.dataset_versions[0]
    suite = client.validation.infer_suite(
        project=PROJECT, dataset=reference.dataset, version=f"v{reference.number}", name="churn"
    )
    path = directory / "suites" / "churn.yaml"
    suite.save(path)
    distribution = sum(1 for c in suite.columns.values() if c.distribution)
    qs.step(
        f"Inferred suite 'churn' from {reference.dataset}@v{reference.number}: {len(suite.columns)} columns "
        f"(types, nulls, ranges, domains, formats; {distribution} distribution tests) -> {path.relative_to(directory)}"
    )
    data = directory / "data"
    clean = data / "customers-batch-1.parquet"
    pq.write_table(customers_table(500, seed=22), clean)
    added = add(clean, "churn-new", project=PROJECT, client=client, require_valid=suite)
    v = added.version
    state = "passed the suite and was versioned" if added.created else "is already versioned"
    qs.more(f"{clean.name} {state} as {v.dataset}@v{v.number} ({v.rows:,} rows; report stored with it)")
    bad = data / "customers-batch-2.parquet"
    pq.write_table(_drifted_and_corrupted(customers_table(500, seed=23)), bad)
    try:
        add(bad, "churn-new", project=PROJECT, client=client, require_valid=suite)
    except CheckFailed as exc:
        failing: list[str] = exc.details.get("failing", [])
        qs.more(f"{bad.name} was refused, no version made: {len(failing)} check(s) failed")
        for line in failing[:6]:
            qs.more(f"  - {line}")
        qs.more(f"  (the same from the shell: keel data add {bad.name} --require-valid suites/churn.yaml)")
        return
    qs.more(f"{bad.name} unexpectedly passed the suite")
