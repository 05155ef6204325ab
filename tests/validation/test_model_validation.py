"""Model validation through the SDK client: metrics, KPIs, champion, slices, fairness, parity, policy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from keel.client import Client
from keel.core.errors import InvalidInput, NotFound
from keel.sdk import register_model

from .conftest import PROJECT
from .models_fixture import labelled, package, weak_package


def _register(client: Client, folder: Path, name: str = "churn") -> str:
    """Register the package folder and return its package digest."""
    version = register_model(folder, name, project=PROJECT, client=client)
    return str(version.package_digest)


@pytest.fixture
def holdout(add_table: Callable[[str, pa.Table], str]) -> str:
    return add_table("holdout", pa.Table.from_pandas(labelled(1500, 7), preserve_index=False))


def test_metrics_kpis_slices_fairness_and_a_stored_report(
    client: Client, tmp_path: Path, holdout: str
) -> None:
    client.projects.edit(
        name=PROJECT,
        kpis=[
            "accuracy >= 0.5",
            "roc_auc >= 0.99",  # missed on purpose
            "demographic_parity_difference <= 0.5 group=gender",
            "recall >= 0.0 slice=plan:pro",
            "latency_p99_ms <= 50 stage=online",  # online: not judged offline
        ],
    )
    digest = _register(client, package(tmp_path / "pkg", labelled(2000, 1)))
    report = client.validation.validate_model(
        project=PROJECT,
        package=digest,
        dataset="holdout",
        label_column="churned",
        label="churn@1",
        n_boot=200,
    )
    assert report.task == "classification" and report.rows == 1500
    assert set(report.metrics) == {
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "log_loss",
        "calibration_error",
    }
    verdicts = {str(r.kpi): r.status for r in report.kpi_report.results}
    assert verdicts == {
        "accuracy >= 0.5": "met",
        "roc_auc >= 0.99": "missed",
        "demographic_parity_difference <= 0.5 group=gender": "met",
        "recall >= 0 slice=plan:pro": "met",
    }
    assert not report.passed and report.failed == [
        f"KPI roc_auc >= 0.99 (missed, value {report.metrics['roc_auc']:.4g})"
    ]
    assert [s.value for s in report.slices] == ["basic", "plus", "pro"] and sum(
        s.rows for s in report.slices
    ) == 1500
    (gender,) = report.fairness
    assert gender.column == "gender" and [g.group for g in gender.groups] == ["female", "male", "nonbinary"]
    dpd = gender.disparities["demographic_parity_difference"]
    assert dpd.low is not None and dpd.high is not None and dpd.low <= dpd.high
    assert report.parity == "every feature of every sampled row matches"

    assert client.validation.model_report(project=PROJECT, report_id=report.id) == report
    listed = client.validation.model_reports(project=PROJECT, package=digest).items
    assert [r.id for r in listed] == [report.id] and not listed[0].passed


def test_the_champion_must_be_beaten_by_the_projects_margin(
    client: Client, tmp_path: Path, holdout: str
) -> None:
    train = labelled(2000, 1)
    weak = _register(client, weak_package(tmp_path / "weak", train), name="weak")
    strong = _register(client, package(tmp_path / "strong", train))
    report = client.validation.validate_model(
        project=PROJECT,
        package=strong,
        dataset="holdout",
        label_column="churned",
        champion=weak,
        champion_label="weak@1",
        n_boot=0,
    )
    champ = report.champion
    assert champ is not None and champ.metric == "roc_auc" and champ.label == "weak@1"
    assert champ.improvement is not None and champ.improvement > 0 and champ.passed and report.passed
    client.validation.set_policy(project=PROJECT, min_improvement=0.9)
    again = client.validation.validate_model(
        project=PROJECT, package=strong, dataset="holdout", label_column="churned", champion=weak, n_boot=0
    )
    assert again.champion is not None and not again.champion.passed and not again.passed
    assert again.failed[0].startswith("champion ")
    reverse = client.validation.validate_model(
        project=PROJECT, package=weak, dataset="holdout", label_column="churned", champion=strong, n_boot=0
    )
    assert reverse.champion is not None and reverse.champion.improvement is not None
    assert reverse.champion.improvement < 0


def test_sensitive_columns_from_the_policy_and_the_upper_bound(
    client: Client, tmp_path: Path, holdout: str
) -> None:
    assert client.validation.policy(project=PROJECT).sensitive_columns == []
    policy = client.validation.set_policy(project=PROJECT, sensitive_columns=["gender", "plan"])
    assert policy.sensitive_columns == ["gender", "plan"] and policy.min_improvement == 0.0
    digest = _register(client, package(tmp_path / "pkg", labelled(2000, 1)))
    point = client.validation.validate_model(
        project=PROJECT, package=digest, dataset="holdout", label_column="churned", n_boot=300
    )
    assert [f.column for f in point.fairness] == ["gender", "plan"]
    value = point.fairness[0].disparities["demographic_parity_difference"]
    assert value.high is not None
    # A KPI between the point estimate and the interval's upper end: met at the point, missed at the bound.
    threshold = (value.value + value.high) / 2
    client.projects.edit(name=PROJECT, kpis=[f"demographic_parity_difference <= {threshold} group=gender"])
    met = client.validation.validate_model(
        project=PROJECT, package=digest, dataset="holdout", label_column="churned", n_boot=300
    )
    assert met.passed
    client.validation.set_policy(project=PROJECT, fairness_at_upper_bound=True)
    bound = client.validation.validate_model(
        project=PROJECT, package=digest, dataset="holdout", label_column="churned", n_boot=300
    )
    assert not bound.passed and bound.kpi_report.results[0].value == pytest.approx(value.high)


def test_regression_metrics(
    client: Client, tmp_path: Path, add_table: Callable[[str, pa.Table], str]
) -> None:
    from sklearn.linear_model import LinearRegression

    import keel.models

    frame = labelled(500, 3)
    model = LinearRegression().fit(frame[["tenure"]], frame["spend"])
    keel.models.save(model, tmp_path / "reg", input_example=frame[["tenure"]].head(3))
    digest = _register(client, tmp_path / "reg", name="spend")
    add_table("spend-holdout", pa.Table.from_pandas(frame, preserve_index=False))
    report = client.validation.validate_model(
        project=PROJECT, package=digest, dataset="spend-holdout", label_column="spend"
    )
    assert report.task == "regression" and set(report.metrics) == {"mae", "rmse", "r2"}
    assert report.metrics["rmse"] >= report.metrics["mae"] > 0


def test_parity_through_the_service(client: Client, tmp_path: Path) -> None:
    digest = _register(client, package(tmp_path / "pkg", labelled(300, 1)))
    report = client.validation.check_parity(project=PROJECT, package=digest)
    assert report.passed and report.package == digest and report.rows == 200
    plain = _register(
        client, package(tmp_path / "plain", labelled(300, 1), with_preprocessing=False), "plain"
    )
    with pytest.raises(InvalidInput, match="carries no preprocessing"):
        client.validation.check_parity(project=PROJECT, package=plain)
    with pytest.raises(NotFound):
        client.validation.check_parity(project=PROJECT, package="0" * 64)
    with pytest.raises(InvalidInput):
        client.validation.check_parity(project=PROJECT, package="not-a-digest")
    with pytest.raises(InvalidInput, match="non-negative"):
        client.validation.check_parity(project=PROJECT, package=digest, rtol=-1)


def test_bad_inputs_are_clear_errors_that_store_nothing(
    client: Client, tmp_path: Path, holdout: str, add_table: Callable[[str, pa.Table], str]
) -> None:
    digest = _register(client, package(tmp_path / "pkg", labelled(300, 1)))

    def validate(**kw: object) -> object:
        args: dict[str, object] = {
            "project": PROJECT,
            "package": digest,
            "dataset": "holdout",
            "label_column": "churned",
            "n_boot": 0,
        }
        return client.validation.validate_model(**{**args, **kw})

    with pytest.raises(InvalidInput, match="no label column 'nope'"):
        validate(label_column="nope")
    with pytest.raises(InvalidInput, match="no column 'region'"):
        validate(slices=["region"])
    one = labelled(200, 5, groups=("female",))
    add_table("one-group", pa.Table.from_pandas(one, preserve_index=False))
    client.validation.set_policy(project=PROJECT, sensitive_columns=["gender"])
    with pytest.raises(InvalidInput, match="single group"):
        validate(dataset="one-group")
    unlabelled = labelled(200, 6).astype({"churned": "float"})
    unlabelled.loc[3, "churned"] = float("nan")
    add_table("unlabelled", pa.Table.from_pandas(unlabelled, preserve_index=False))
    with pytest.raises(InvalidInput, match="1 row\\(s\\) have no label"):
        validate(dataset="unlabelled")
    add_table("empty", pa.Table.from_pandas(labelled(10, 6).head(0), preserve_index=False))
    with pytest.raises(InvalidInput, match="no rows"):
        validate(dataset="empty")
    add_table(
        "narrow", pa.Table.from_pandas(labelled(50, 6)[["tenure", "churned", "gender"]], preserve_index=False)
    )
    with pytest.raises(InvalidInput, match="lacks column"):
        validate(dataset="narrow")
    with pytest.raises(NotFound):
        validate(package="1" * 64)
    with pytest.raises(InvalidInput, match="sensitive_columns"):
        client.validation.set_policy(project=PROJECT, sensitive_columns=["a", "a"])
    assert client.validation.model_reports(project=PROJECT).items == []
    assert client.validation.policy(project=PROJECT).sensitive_columns == ["gender"]
