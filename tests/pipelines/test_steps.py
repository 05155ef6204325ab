"""Steps that log metrics, renamed steps and steps taking ``**kwargs`` of outputs."""

from __future__ import annotations

from typing import Any

import pytest

import keel.pipelines as kp
from keel.core.errors import InvalidInput
from keel.pipelines.run import run_pipeline
from keel.pipelines.steplog import final_metrics
from pipelines import steps_demo as demo


def test_named_calls_and_kwargs_of_outputs_make_the_dag() -> None:
    plan = demo.grid.plan()
    assert plan.order[0] == "load" and plan.order[-1] == "best"
    assert plan.nodes["best"].inputs == {"fit-0.1": "fit-0.1", "fit-0.5": "fit-0.5"}
    assert plan.nodes["fit-0.5"].params == {"lr": 0.5}


def test_logged_metrics_reach_the_step_run_and_a_cached_step_names_its_source_run(client: Any) -> None:
    first = run_pipeline(demo.grid, client, project="pipes")
    assert first.value("best") == "fit-0.5"
    step = first.steps["fit-0.5"]
    assert step.metrics == {"loss": pytest.approx(1 / 3), "score": pytest.approx(1.5)}
    run = client.runs.get(step.run_id)
    assert run.name == "fit-0.5" and run.metrics["score"] == pytest.approx(1.5)
    assert [p.value for p in client.runs.metric_history(run_id=step.run_id, key="loss")] == pytest.approx(
        [1.0, 0.5, 1 / 3]
    )
    again = run_pipeline(demo.grid, client, project="pipes")
    cached = again.steps["fit-0.5"]
    assert cached.cached and cached.run_id is None and cached.source_run_id == step.run_id


def test_logging_outside_a_pipeline_run_is_a_no_op_and_steps_stay_plain_functions() -> None:
    assert demo.fit.fn([1.0, 2.0], lr=0.5) == 1.0  # no buffer open: nothing raised, nothing kept


def test_bad_metric_and_bad_names_are_refused() -> None:
    from keel.pipelines.steplog import collecting

    with collecting(), pytest.raises(InvalidInput, match="metric 'loss' is NaN"):
        kp.log_metric("loss", float("nan"))
    with collecting(), pytest.raises(InvalidInput, match="non-empty name"):
        kp.log_metric("", 1.0)
    with pytest.raises(InvalidInput, match="must be non-empty, without ':' or '/'"):
        demo.fit.named("a/b")


def test_final_metrics_take_each_keys_highest_step() -> None:
    points = [("a", 1.0, 0, 0), ("a", 3.0, 2, 0), ("a", 2.0, 1, 0), ("b", 5.0, 0, 0)]
    assert final_metrics(points) == {"a": 3.0, "b": 5.0}


def test_any_annotations_accept_every_input_and_output(client: Any) -> None:
    @kp.step
    def anything() -> Any:
        return {"a": 1}

    @kp.step
    def takes(x: Any) -> Any:
        return x

    @kp.pipeline
    def loose() -> object:
        return takes(anything())

    assert run_pipeline(loose, client, project="pipes").value("takes") == {"a": 1}
