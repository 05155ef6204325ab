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
evidence, the promotion gate takes the first and refuses the second. The
requirement is switched off again at the end, since the later stages
(retraining, hot swap) promote by the KPIs alone.
"""

from __future__ import annotations

from typing import Any, Final

from keel.quickstart.state import PROJECT, Quickstart

#: The candidates that carry their preprocessing are a model of their own, beside ``churn``.
MODEL: Final = "churn-prepared"
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


def _prepare(categorical: list[str]) -> Any:
    """Median-filled, scaled numbers and one-hot categories: the preparation a candidate carries."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    return ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUMERIC),
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
        ]
    )


def _candidate(
    qs: Quickstart, run_name: str, title: str, frame: Any, labels: Any, categorical: list[str]
) -> Any:
    """Fit, package with its preprocessing, and register one candidate inside a run; returns the version."""
    import tempfile
    from pathlib import Path

    from sklearn.linear_model import LogisticRegression

    import keel.models
    from keel.sdk import register_model
    from keel.validation.parity import attach_preprocessing

    raw = frame[NUMERIC + categorical]
    prep = _prepare(categorical).fit(raw)
    model = LogisticRegression(max_iter=1000).fit(prep.transform(raw), labels)
    run = qs.client.runs.create(
        project=PROJECT, name=run_name, params={"model": "logistic", "features": len(raw.columns)}
    )
    with tempfile.TemporaryDirectory(prefix="keel-qs-") as tmp:
        folder = Path(tmp, "package")
        keel.models.save(model, folder, input_example=prep.transform(raw.head(5)))
        attach_preprocessing(folder, prep, raw)
        version = register_model(
            folder, MODEL, project=PROJECT, run_id=run.id, client=qs.client, description=title
        )
    return version


def model_stage(qs: Quickstart) -> None:
    """Validate two candidates on a holdout (metrics, KPIs, fairness with intervals); the gate decides."""
    import time

    import numpy as np
    import pyarrow.parquet as pq

    from keel.core.errors import CheckFailed
    from keel.data import add
    from keel.samples import customers_table

    client, directory = qs.client, qs.directory
    assert qs.table_path is not None, "the quickstart writes the table before this stage"
    frame = pq.read_table(qs.table_path).to_pandas()
    labels = frame["churned"].astype(int).to_numpy()
    holdout = directory / "data" / "customers-holdout.parquet"
    pq.write_table(customers_table(4000, seed=41), holdout)
    held = add(holdout, "churn-holdout", project=PROJECT, client=client).version
    client.validation.set_policy(
        project=PROJECT,
        sensitive_columns=["gender"],
        require_validation=True,
        evaluation_dataset="churn-holdout",
    )
    qs.step(
        f"Validation policy: promotion needs a passing model validation report on {held.dataset} "
        f"(v{held.number}, {held.rows:,} rows); sensitive column gender"
    )
    # Historical labels that flagged 5 % more men as churners, and a model that sees gender: the biased one.
    rng = np.random.default_rng(3)
    biased = np.where((frame["gender"] == "male").to_numpy() & (rng.random(len(frame)) < 0.05), 1, labels)
    candidates = [
        ("logistic-prepared", "without gender", labels, CATEGORICAL),
        ("logistic-biased-labels", "fitted on biased labels, with gender", biased, [*CATEGORICAL, "gender"]),
    ]
    for run_name, title, y, categorical in candidates:
        version = _candidate(qs, run_name, title, frame, y, categorical)
        ref = f"{MODEL}@{version.number}"
        parity = client.validation.check_parity(project=PROJECT, package=version.package_digest)
        started = time.perf_counter()
        report = client.validation.validate_model(
            project=PROJECT,
            package=version.package_digest,
            dataset="churn-holdout",
            version=f"v{held.number}",
            label_column="churned",
            label=ref,
        )
        took = time.perf_counter() - started
        client.runs.log_batch(
            run_id=version.run_id,
            metrics=[(k, v, 0, int(time.time() * 1000)) for k, v in _kpi_metrics(report).items()],
        )
        client.runs.end(run_id=version.run_id)
        fair = report.fairness[0].disparities["demographic_parity_difference"]
        qs.more(
            f"{ref} ({title}): parity {'holds' if parity.passed else 'FAILS'} on {parity.rows} stored rows; "
            f"on the holdout accuracy {report.metrics['accuracy']:.3f}, roc_auc {report.metrics['roc_auc']:.3f}, "
            f"demographic parity difference {fair.value:.3f} (95% CI {fair.low:.3f}-{fair.high:.3f}, "
            f"{report.fairness[0].n_boot} resamples, {took:.1f} s)"
        )
        for reason in report.failed:
            qs.more(f"  failed: {reason}")
        try:
            client.models.promote(project=PROJECT, ref=ref, to="candidate")
        except CheckFailed:
            gate = client.models.gate(project=PROJECT, ref=ref)
            qs.more(
                f"  Promotion to 'candidate' refused by the gate: KPIs {gate.kpi_report.summary()}; "
                f"validation: report {report.id} failed"
            )
            continue
        qs.more(f"  Promoted {ref} to 'candidate': KPIs met and validation report {report.id} passed")
    # The stages after this one promote retrained models by their KPIs alone; the policy stays opt-in.
    client.validation.set_policy(project=PROJECT, require_validation=False)
    qs.more(
        "Requirement switched off again for the stages that follow: keel model policy --require turns it on"
    )


def _kpi_metrics(report: Any) -> dict[str, float]:
    """The holdout figures the project's KPIs read, as the candidate's run records them."""
    out = {k: v for k, v in report.metrics.items() if k in ("accuracy", "roc_auc")}
    for fairness in report.fairness:
        out[f"demographic_parity_difference.{fairness.column}"] = fairness.disparities[
            "demographic_parity_difference"
        ].value
    return out
