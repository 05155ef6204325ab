"""Promotion is a gate: the project's offline KPIs against the run's final metrics; overrides are audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import keel
import keel.models
from keel.core.errors import CheckFailed, InvalidInput
from keel.sdk import register_model
from keel.testing.fixtures import new_workspace


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    settings = new_workspace(tmp_path / "ws")
    monkeypatch.chdir(tmp_path)
    c = keel.init(project="churn", create=True, home=settings.home)
    c.projects.edit(name="churn", kpis=["accuracy >= 0.9"])
    return c


def _logged(fitted: Any, accuracy: float, name: str = "churn") -> Any:
    model, X, _ = fitted
    with keel.start_run(name=f"acc-{accuracy}") as run:
        run.log_metric("accuracy", accuracy)
        return run.log_model(model, name=name, input_example=X.head(5))


def test_a_run_that_meets_the_kpis_is_promoted_and_its_lineage_reaches_the_data(
    client: Any, fitted: Any, tmp_path: Path
) -> None:
    model, X, y = fitted
    data = tmp_path / "train.csv"
    X.assign(target=y).head(50).to_csv(data, index=False)
    added = keel.data.add(data, "train", project="churn", pointer=False, gitignore=False)
    with keel.start_run(name="rf") as run:
        run.use_dataset(added.version.ref)
        run.log_metric("accuracy", 0.95)
        version = run.log_model(model, name="churn", input_example=X.head(5))
    assert version.run_id == run.id and version.manifest["metrics"] == {"accuracy": 0.95}
    done = client.models.promote(project="churn", ref="churn@1", to="candidate")
    assert done.gate.passed and done.gate.metrics_source == f"run:{run.id}" and done.previous_version is None
    assert client.models.promote(project="churn", ref="churn@candidate", to="production").version.aliases == [
        "candidate",
        "production",
    ]
    lineage = client.models.lineage(project="churn", ref="churn@production")
    assert {(e.src, e.relation, e.dst) for e in lineage.upstream} >= {
        (version.ref, "produced_by", f"run:{run.id}"),
        (f"run:{run.id}", "used", added.version.ref),
    }
    assert keel.models.load("churn@production").predict(X.head(2)).shape == (2,)
    actions = [e.action for e in client.audit.ls(project="churn").items]
    assert actions.count("model.promote") == 2 and "model.override" not in actions


def test_a_failing_gate_changes_nothing_until_an_admin_overrides_with_a_reason(
    client: Any, fitted: Any
) -> None:
    _logged(fitted, 0.5)
    with pytest.raises(
        CheckFailed, match=r"churn@1 does not pass the promotion gate to 'production': KPIs 0/1 met, 1 missed"
    ):
        client.models.promote(project="churn", ref="churn@1", to="production")
    with pytest.raises(InvalidInput, match="an override \\(force\\) needs a reason"):
        client.models.promote(project="churn", ref="churn@1", to="production", force=True)
    assert client.models.get(project="churn", ref="churn@1").aliases == []
    gate = client.models.gate(project="churn", ref="churn@1")
    assert not gate.passed and gate.kpi_report.results[0].status == "missed"
    done = client.models.promote(project="churn", ref="churn@1", to="production", force=True, reason="hotfix")
    assert done.forced and done.reason == "hotfix" and done.version.aliases == ["production"]
    [override] = client.audit.ls(project="churn", action="model.override").items
    assert override.details["reason"] == "hotfix" and override.details["alias"] == "production"


def test_a_version_registered_from_files_has_no_metrics_so_its_kpis_are_missed(
    client: Any, fitted: Any, tmp_path: Path
) -> None:
    model, X, _ = fitted
    keel.models.save(model, tmp_path / "pkg", input_example=X.head(5))
    register_model(tmp_path / "pkg", "churn", project="churn")
    with pytest.raises(
        CheckFailed, match="0/1 met, 1 not measured \\(metrics from none: the version was registered"
    ):
        client.models.promote(project="churn", ref="churn@1", to="candidate")


def test_a_version_of_another_model_is_refused(client: Any, fitted: Any) -> None:
    other = _logged(fitted, 0.95, name="fraud")
    with pytest.raises(InvalidInput, match="is a version of model 'fraud', not of 'churn'"):
        client.models.promote(project="churn", ref=other.ref, model="churn", to="candidate")
    assert client.models.get(project="churn", ref=other.ref).aliases == []
