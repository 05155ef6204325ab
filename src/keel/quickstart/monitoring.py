"""The quickstart's monitoring stage: a monitor over the training data, quiet traffic, then drifted traffic.

The reference is the table the model learned from with the model's own
answers beside it (versioned as ``churn-reference``), so prediction drift
compares answers with answers; its statistics are computed once. A batch of new customers drawn like
the training data passes; a batch where prices rose 30 % and customers are
newer raises the drift alert (rule ``drift.share > 0.2``, delivered to the
log). Both batches carry the registered model's answers, so prediction
drift is judged too, and their labels, so live accuracy is measured. The
report of the drifted batch is written as one HTML file.

``qs`` is the quickstart's shared state (typed ``Any``: the quickstart sits
above this package).
"""

from __future__ import annotations

import logging
from typing import Any

PROJECT = "churn"
MONITOR = "churn-prod"
NUMERIC = ["age", "tenure_months", "monthly_charges", "total_charges", "support_calls"]
CATEGORICAL = ["region", "plan", "contract", "payment_method"]
RULE = "drift.share > 0.2"


def _answers(model: Any, example: Any, table: Any) -> Any:
    """The model's 0/1 answers for ``table``, its features prepared as the training pipeline did."""
    import pandas as pd

    frame = table.to_pandas()
    features = pd.get_dummies(frame[NUMERIC + CATEGORICAL], columns=CATEGORICAL, dtype=float)
    features = features.reindex(columns=list(example.columns), fill_value=0.0).fillna(features.median())
    return model.predict(features).astype("int64")


def _batch(model: Any, example: Any, table: Any) -> Any:
    """The batch a day of traffic would give: features, the model's answers and the labels that came back."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from keel.core.operations import ByteStream

    with_answers = table.append_column("prediction", pa.array(_answers(model, example, table)))
    sink = io.BytesIO()
    pq.write_table(with_answers, sink)
    data = sink.getvalue()
    return ByteStream([data], size=len(data))


def _drifted(table: Any) -> Any:
    """New customers at higher prices: tenure a third, monthly charges up 30 %, totals to match."""
    import pyarrow as pa
    import pyarrow.compute as pc

    tenure = pc.max_element_wise(pc.divide(table.column("tenure_months"), 3), 1)
    monthly = pc.round(pc.multiply(table.column("monthly_charges"), 1.3), 2)
    total = pc.round(pc.multiply(monthly, pc.cast(tenure, pa.float64())), 2)
    for name, column in (("tenure_months", pc.cast(tenure, pa.int64())), ("monthly_charges", monthly)):
        table = table.set_column(table.schema.get_field_index(name), name, column)
    return table.set_column(table.schema.get_field_index("total_charges"), "total_charges", total)


def _reference(qs: Any, model: Any, example: Any) -> str:
    """Version the training table with the model's answers as ``churn-reference``: what production is held to."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from keel.data import add

    table = pq.read_table(qs.table_path)
    table = table.append_column("prediction", pa.array(_answers(model, example, table)))
    path = qs.directory / "data" / "churn-reference.parquet"
    pq.write_table(table, path)
    added = add(
        path,
        "churn-reference",
        message="churn-train@v1 with the model's answers",
        project=PROJECT,
        client=qs.client,
    )
    return f"churn-reference@v{added.version.number}"


def monitoring_stage(qs: Any) -> None:
    """Watch the model's inputs and answers against its training data; a drifted batch raises the alert."""
    from keel.core.errors import NotFound
    from keel.monitoring.html import render_html
    from keel.samples import customers_table

    client = qs.client
    if qs.model_version is None or not qs.dataset_versions:
        qs.step("Skipped monitoring: no model was registered")
        return
    model, example = qs.fitted[qs.model_version.run_id]
    try:
        monitor = client.monitors.get(project=PROJECT, name=MONITOR)
        made = "Kept monitor"
    except NotFound:
        reference = _reference(qs, model, example)
        monitor = client.monitors.create(
            project=PROJECT,
            name=MONITOR,
            reference=reference,
            features=NUMERIC + CATEGORICAL,
            label="churned",
            prediction="prediction",
        )
        made = "Created monitor"
    if not client.monitors.rules(project=PROJECT, monitor=MONITOR):
        client.monitors.add_rule(project=PROJECT, monitor=MONITOR, expression=RULE, sink="log")
    qs.step(
        f"{made} {MONITOR}: {len(monitor.features)} features of {monitor.reference_address} "
        f"(reference statistics computed once and stored); alert rule '{RULE}'"
    )
    fresh = customers_table(2000, seed=2026)  # new customers drawn like the training data
    quiet = client.monitors.check(project=PROJECT, name=MONITOR, data=_batch(model, example, fresh))
    accuracy = quiet.kpis.metrics["accuracy"] if quiet.kpis is not None else float("nan")
    steady = "steady" if quiet.prediction is not None and not quiet.prediction.drifted else "drifted"
    qs.more(
        f"Reference-like traffic ({quiet.rows:,} rows): "
        + ("no feature drifted" if not quiet.drift.drifted else f"drift in {', '.join(quiet.drift.drifted)}")
        + f", predictions {steady}, live accuracy {accuracy:.3f}; alerts: {len(quiet.alerts)}"
    )
    logging.getLogger("keel.monitoring.alerts").setLevel(logging.ERROR)  # the stage prints the alert itself
    shifted = client.monitors.check(
        project=PROJECT, name=MONITOR, data=_batch(model, example, _drifted(fresh))
    )
    worst = sorted(
        (f for f in shifted.drift.features if f.drifted and f.tests),
        key=lambda f: -(f.tests[0].effect),
    )
    detail = ", ".join(f"{f.name} (KS {f.tests[0].effect:.2f})" for f in worst[:3])
    qs.more(
        f"Shifted traffic (prices +30 %, newer customers): drift in {len(shifted.drift.drifted)} of "
        f"{len(shifted.drift.features)} features: {detail}"
    )
    for alert in shifted.alerts:
        sent = (
            "written to the log"
            if alert.delivery == "delivered"
            else f"not delivered: {alert.delivery_detail}"
        )
        qs.more(f"Alert '{alert.expression}' fired (value {alert.value:.2f}), {sent}")
    report = qs.directory / "reports" / "drift.html"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(render_html(shifted), encoding="utf-8")
    qs.more(f"Report with per-feature histograms: {report} (keel monitor report {MONITOR} --html FILE)")
