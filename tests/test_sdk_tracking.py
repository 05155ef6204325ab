"""The tracking SDK: keel.start_run and friends, as a training script uses them."""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

import pytest

import keel
from keel.core.errors import InvalidInput, NotFound
from keel.testing.fixtures import new_workspace


@pytest.fixture
def churn(tmp_path: Path) -> Any:
    settings = new_workspace(tmp_path / "ws")
    client = keel.init(project="churn", create=True, home=settings.home)
    client.projects.edit(name="churn", kpis=["auc >= 0.8"])
    yield client
    while keel.active_run() is not None:
        keel.end_run()


def test_context_manager_logs_and_finishes_with_kpis(churn: Any) -> None:
    with keel.start_run(name="gbm", params={"max_depth": 6, "lr": 0.1}, system_metrics=False) as run:
        assert keel.active_run() is run
        with pytest.raises(NotFound, match="no dataset version '01JEXAMPLE'"):
            run.use_dataset("dataset_version:01JEXAMPLE")  # no such version: refused, nothing recorded
        for step in range(300):
            run.log_metrics({"loss": 1 / (step + 1), "auc": step / 300}, step=step)
        run.log_metric("odd", float("nan"))
    assert keel.active_run() is None
    stored = keel.get_run(run.id)
    assert stored.status == "FINISHED"
    assert stored.params == {"max_depth": 6, "lr": 0.1}
    assert stored.metrics["auc"] == pytest.approx(299 / 300) and math.isnan(stored.metrics["odd"])
    assert [p.step for p in stored.metric_history("loss")] == list(range(300))
    assert stored.kpi_passed is True and stored.kpi_report.summary() == "1/1 met"
    assert stored.environment["python"] and "requirements" in " ".join(a.path for a in stored.artifacts)
    digests = {a.path: a.digest for a in stored.artifacts}
    assert (
        stored.environment["artifacts"]["environment/requirements.txt"]
        == digests["environment/requirements.txt"]
    )
    assert keel.get_run(run.id).info.duration is not None


def test_exception_marks_the_run_failed_and_propagates(churn: Any) -> None:
    with pytest.raises(ZeroDivisionError), keel.start_run(system_metrics=False) as run:
        run.log_metric("auc", 0.5)
        _ = 1 / 0
    stored = keel.get_run(run.id)
    assert stored.status == "FAILED" and stored.metrics == {"auc": 0.5}
    assert stored.kpi_passed is False


def test_nested_runs_and_end_run_restore_the_parent(churn: Any) -> None:
    parent = keel.start_run(name="sweep", system_metrics=False)
    child = keel.start_run(name="trial-1", system_metrics=False)
    assert child.info.parent_id == parent.id and keel.active_run() is child
    keel.end_run()
    assert keel.active_run() is parent
    keel.end_run()
    assert keel.active_run() is None
    assert keel.get_run(child.id).status == "FINISHED"


def test_active_run_is_per_thread_context(churn: Any) -> None:
    seen: list[Any] = []
    with keel.start_run(system_metrics=False):
        thread = threading.Thread(target=lambda: seen.append(keel.active_run()))
        thread.start()
        thread.join()
    assert seen == [None]


def test_module_level_calls_and_resume(churn: Any) -> None:
    with pytest.raises(InvalidInput, match="no active run"):
        keel.log_metric("auc", 0.9)
    run = keel.start_run(system_metrics=False)
    keel.log_param("depth", 3)
    keel.log_params({"opt": "adam"})
    keel.set_tags({"team": "risk"})
    keel.log_metric("auc", 0.7, step=1)
    keel.end_run()
    resumed = keel.start_run(run_id=run.id, system_metrics=False)
    assert resumed.info.status == "RUNNING"
    resumed.log_metric("auc", 0.95, step=2)
    keel.end_run()
    stored = keel.get_run(run.id)
    assert stored.metrics["auc"] == 0.95 and stored.params == {"depth": 3, "opt": "adam"}
    assert stored.tags == {"team": "risk"}


def test_bad_input_fails_at_the_call_and_changes_nothing(churn: Any) -> None:
    with keel.start_run(params={"lr": 0.1}, system_metrics=False) as run:
        with pytest.raises(InvalidInput, match=r"0\.1.*0\.2"):
            run.log_param("lr", 0.2)
        run.log_param("lr", 0.1)  # the same value again is fine
        with pytest.raises(InvalidInput, match="characters other than"):
            run.log_metric("val:auc", 0.5)
        with pytest.raises(InvalidInput, match="not a number"):
            run.log_metric("auc", "high")
        with pytest.raises(InvalidInput, match="step must be an integer"):
            run.log_metric("auc", 0.5, step=1.5)  # type: ignore[arg-type]
    assert keel.get_run(run.id).metrics == {}


def test_artifact_helpers(churn: Any, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.txt").write_text("b")

    class Figure:
        def savefig(self, buffer: Any, format: str) -> None:
            buffer.write(f"image/{format}".encode())

    with keel.start_run(system_metrics=False, capture_env=False) as run:
        run.log_artifacts(folder, "files")
        run.log_dict({"b": 1, "a": [1, 2]}, "config.json")
        run.log_text("hello", "notes/readme.txt")
        run.log_figure(Figure(), "plots/roc.png")
        keel.log_artifact(folder / "a.txt")
        with pytest.raises(InvalidInput, match="not a file"):
            run.log_artifact(folder / "missing.txt")
    paths = [a.path for a in churn.runs.list_artifacts(run_id=run.id).items]
    assert paths == [
        "a.txt",
        "config.json",
        "files/a.txt",
        "files/sub/b.txt",
        "notes/readme.txt",
        "plots/roc.png",
    ]
    body = churn.runs.download_artifact(run_id=run.id, path="plots/roc.png").read_all()
    assert body == b"image/png"


def test_search_runs_returns_a_dataframe(churn: Any) -> None:
    for depth, auc in [(2, 0.7), (6, 0.93), (6, 0.91), (8, 0.95)]:
        with keel.start_run(params={"max_depth": depth}, system_metrics=False, capture_env=False) as run:
            run.log_metric("auc", auc)
    frame = keel.search_runs("metrics.auc > 0.9 and params.max_depth = 6", order_by=["metrics.auc desc"])
    assert list(frame["metrics.auc"]) == [0.93, 0.91]
    assert list(frame["params.max_depth"]) == [6, 6]
    assert {"run_id", "status", "kpi", "cost"} <= set(frame.columns)
    assert keel.search_runs("metrics.auc > 2").empty


def test_system_metrics_are_sampled_without_a_gpu(churn: Any) -> None:
    with keel.start_run(capture_env=False) as run:
        run.log_metric("auc", 0.9)
    keys = set(keel.get_run(run.id).metrics)
    assert {"system/cpu_percent", "system/memory_used_mb", "system/process_rss_mb"} <= keys


def test_autolog_sklearn_records_params_score_time_and_model(churn: Any) -> None:
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    keel.autolog()
    try:
        X = [[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1]] * 5
        y = [0, 1, 0, 1] * 5
        make_pipeline(StandardScaler(), LogisticRegression(C=0.5)).fit(X, y)
        with keel.start_run(system_metrics=False, capture_env=False) as run:
            LogisticRegression(C=2.0).fit(X, y)
    finally:
        keel.autolog(disable=True)
    frame = keel.search_runs("attributes.name = 'Pipeline'")
    assert len(frame) == 1  # the pipeline's inner fits are not logged again
    stored = keel.get_run(run.id)
    assert stored.params["C"] == 2.0 and stored.metrics["training_score"] == 1.0
    assert "fit_time_s" in stored.metrics
    assert stored.tags["estimator"].endswith("LogisticRegression")
    assert [a.path for a in stored.artifacts] == ["model/model.skops"]


def test_start_run_needs_a_project_and_helpers_check_their_input(tmp_path: Path) -> None:
    settings = new_workspace(tmp_path / "ws")
    client = keel.init(home=settings.home)
    # the current project (the `project` setting, "default" unless chosen) must exist
    with pytest.raises(NotFound, match="no project named 'default'"):
        keel.start_run(system_metrics=False)
    with pytest.raises(NotFound, match="no project named 'default'"):
        keel.search_runs("metrics.auc > 1")
    client.projects.create(name="default")
    assert client.runs.search(project="default").items == []  # the failed start left no run
    keel.init(project="p", create=True, home=settings.home)
    with keel.start_run(system_metrics=False, capture_env=False) as run:
        with pytest.raises(InvalidInput, match="matplotlib Figure"):
            run.log_figure(object(), "plot.png")
        with pytest.raises(InvalidInput, match="artifact path"):
            run.log_text("x", "../outside.txt")
    assert keel.get_run(run.id).artifacts == []
