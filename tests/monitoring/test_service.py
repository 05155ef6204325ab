"""Monitors through the SDK client: create over a reference version, check batches, stored reports, bad input."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pytest

from keel.client import Client
from keel.core.errors import AlreadyExists, InvalidInput, NotFound
from keel.core.operations import ByteStream

from .conftest import PROJECT, churn_table, parquet


def test_create_stores_reference_statistics_once_and_checks_batches(
    client: Client, add_table: Callable[[str, pa.Table], str]
) -> None:
    ref = add_table("churn-train", churn_table(3000, 1))
    monitor = client.monitors.create(project=PROJECT, name="churn-prod", reference=ref, label="churned")
    assert monitor.features == ["tenure", "spend", "plan"]
    assert monitor.kinds == {"tenure": "numeric", "spend": "numeric", "plan": "categorical"}
    assert monitor.tests["numeric"][0] == "ks" and monitor.correction == "holm"
    assert client.artifacts.stat(project=PROJECT, digest=monitor.reference_digest).size > 0

    quiet = client.monitors.check(project=PROJECT, name="churn-prod", data=parquet(churn_table(800, 2)))
    assert not quiet.drifted and quiet.drift.drifted == [] and quiet.rows == 800
    assert quiet.label is not None and not quiet.label.drifted
    assert quiet.figures["drift.share"] == 0.0 and quiet.figures["feature.tenure.drifted"] == 0.0

    shifted = client.monitors.check(
        project=PROJECT,
        name="churn-prod",
        data=parquet(churn_table(800, 3, shift=1.0, plans=(0.2, 0.3, 0.5))),
    )
    assert shifted.drifted and set(shifted.drift.drifted) == {"tenure", "spend", "plan"}
    assert shifted.figures["drift.share"] == 1.0
    tenure = next(f for f in shifted.drift.features if f.name == "tenure")
    assert [t.test for t in tenure.tests] == ["ks", "wasserstein", "psi"]
    assert tenure.tests[0].adjusted_p is not None and tenure.tests[0].adjusted_p < 1e-6
    assert tenure.histogram is not None and sum(tenure.histogram.current) == pytest.approx(1.0)

    assert client.monitors.report(project=PROJECT, name="churn-prod", evaluation=shifted.id) == shifted
    assert client.monitors.report(project=PROJECT, name="churn-prod").id == shifted.id  # latest
    listed = client.monitors.evaluations(project=PROJECT, name="churn-prod")
    assert [e.id for e in listed.items] == [shifted.id, quiet.id]
    page = client.monitors.evaluations(project=PROJECT, name="churn-prod", limit=1)
    assert page.next_token is not None
    assert (
        client.monitors.evaluations(project=PROJECT, name="churn-prod", page_token=page.next_token)
        .items[0]
        .id
        == quiet.id
    )
    assert [m.name for m in client.monitors.ls(project=PROJECT)] == ["churn-prod"]


def test_prediction_drift_and_live_kpis_from_a_labelled_batch(
    client: Client, add_table: Callable[[str, pa.Table], str]
) -> None:
    ref = add_table("churn-train", churn_table(3000, 1))
    client.monitors.create(project=PROJECT, name="m", reference=ref, label="churned")
    batch = churn_table(1000, 4)
    good = batch.append_column("prediction", batch.column("churned"))
    report = client.monitors.check(project=PROJECT, name="m", data=parquet(good))
    assert report.prediction is not None and not report.prediction.drifted
    assert report.kpis is not None and report.kpis.labeled == 1000
    assert report.kpis.metrics["accuracy"] == 1.0 and report.kpis.report.passed
    assert report.figures["kpi.accuracy"] == 1.0

    always_yes = batch.append_column("prediction", pa.array([1] * 1000))
    bad = client.monitors.check(project=PROJECT, name="m", data=parquet(always_yes))
    assert bad.prediction is not None and bad.prediction.drifted and bad.drifted
    assert bad.kpis is not None and not bad.kpis.report.passed
    assert bad.kpis.report.results[0].status == "missed"


def test_check_a_table_version_and_the_html_report(
    client: Client, add_table: Callable[[str, pa.Table], str]
) -> None:
    ref = add_table("churn-train", churn_table(2000, 1))
    add_table("churn-day", churn_table(500, 5, shift=1.0))
    client.monitors.create(project=PROJECT, name="m", reference=ref, features=["tenure", "plan"])
    report = client.monitors.check_version(project=PROJECT, name="m", dataset="churn-day")
    assert report.source.startswith("dataset_version:") and report.drift.drifted == ["tenure"]
    page = client.monitors.report_html(project=PROJECT, name="m").read_all().decode()
    assert page.startswith("<!doctype html>") and "<svg" in page and "tenure" in page and "DRIFT" in page
    assert "<script" not in page


def test_bad_inputs_are_clear_errors_that_change_nothing(
    client: Client, add_table: Callable[[str, pa.Table], str]
) -> None:
    ref = add_table("churn-train", churn_table(500, 1))
    with pytest.raises(InvalidInput, match="no column 'nope'"):
        client.monitors.create(project=PROJECT, name="m", reference=ref, features=["tenure", "nope"])
    with pytest.raises(InvalidInput, match="window 'soon' is not a duration"):
        client.monitors.create(project=PROJECT, name="m", reference=ref, window="soon")
    with pytest.raises(InvalidInput, match="no drift test 'magic'"):
        client.monitors.create(project=PROJECT, name="m", reference=ref, tests={"numeric": ["magic"]})
    with pytest.raises(InvalidInput, match="both a feature and the label"):
        client.monitors.create(
            project=PROJECT, name="m", reference=ref, features=["churned"], label="churned"
        )
    with pytest.raises(InvalidInput, match="alpha"):
        client.monitors.create(project=PROJECT, name="m", reference=ref, alpha=2.0)
    with pytest.raises(NotFound):
        client.monitors.create(project=PROJECT, name="m", reference="nothing@v1")
    assert client.monitors.ls(project=PROJECT) == []

    client.monitors.create(project=PROJECT, name="m", reference=ref)
    with pytest.raises(AlreadyExists):
        client.monitors.create(project=PROJECT, name="m", reference=ref)
    with pytest.raises(InvalidInput, match="not a Parquet file"):
        client.monitors.check(project=PROJECT, name="m", data=ByteStream([b"tenure,plan\n1,a\n"]))
    with pytest.raises(InvalidInput, match="lacks the monitored column"):
        client.monitors.check(project=PROJECT, name="m", data=parquet(pa.table({"tenure": [1.0]})))
    with pytest.raises(InvalidInput, match="no rows"):
        client.monitors.check(project=PROJECT, name="m", data=parquet(churn_table(0, 1)))
    with pytest.raises(InvalidInput, match="watches no deployment"):
        client.monitors.run(project=PROJECT, name="m")
    with pytest.raises(NotFound, match="no monitor 'other'"):
        client.monitors.check(project=PROJECT, name="other", data=parquet(churn_table(10, 1)))
    with pytest.raises(NotFound, match="has no evaluations yet"):
        client.monitors.report(project=PROJECT, name="m")
    assert client.monitors.evaluations(project=PROJECT, name="m").items == []


def test_a_window_with_one_category_is_judged_and_delete_removes_the_monitor(
    client: Client, add_table: Callable[[str, pa.Table], str]
) -> None:
    ref = add_table("churn-train", churn_table(1000, 1))
    client.monitors.create(project=PROJECT, name="m", reference=ref, features=["plan"])
    one = churn_table(300, 2).set_column(2, "plan", pa.array(["basic"] * 300))
    report = client.monitors.check(project=PROJECT, name="m", data=parquet(one))
    assert report.drift.drifted == ["plan"]
    client.monitors.delete(project=PROJECT, name="m")
    assert client.monitors.ls(project=PROJECT) == []


def test_the_multivariate_check_on_request_finds_a_joint_shift(
    client: Client, add_table: Callable[[str, pa.Table], str]
) -> None:
    import numpy as np

    def pairs(n: int, correlation: float, seed: int) -> pa.Table:
        rng = np.random.default_rng(seed)
        x = rng.normal(0, 1, n)
        y = correlation * x + np.sqrt(1 - correlation**2) * rng.normal(0, 1, n)
        return pa.table({"x": x, "y": y})

    ref = add_table("pairs", pairs(1500, 0.9, 1))
    made = client.monitors.create(project=PROJECT, name="joint", reference=ref, multivariate=True)
    assert made.multivariate
    assert client.monitors.add_rule(project=PROJECT, monitor="joint", expression="multivariate.auc > 0.7")
    flipped = client.monitors.check(project=PROJECT, name="joint", data=parquet(pairs(800, -0.9, 2)))
    assert flipped.drift.drifted == [] and flipped.multivariate is not None
    assert flipped.multivariate.drifted and flipped.drifted and flipped.figures["multivariate.auc"] > 0.7
    assert [a.expression for a in flipped.alerts] == ["multivariate.auc > 0.7"]
    assert "Multivariate" in client.monitors.report_html(project=PROJECT, name="joint").read_all().decode()
