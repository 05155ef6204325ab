"""Running pipelines: outputs, the cache, tracking runs and lineage, failures."""

from __future__ import annotations

from typing import Any

import pytest

from keel.core.errors import InvalidInput, StepFailed
from keel.pipelines.run import run_pipeline
from pipelines import steps_demo as demo


def test_a_pipeline_runs_its_dag_and_records_every_step(client: Any) -> None:
    result = run_pipeline(demo.demo, client, project="pipes", params={"n": 4})
    assert result.status == "FINISHED"
    assert result.value("report") == {"mean": 3.0, "n": 4}  # rows 0, 2, 4, 6
    assert sorted(demo.CALLS) == ["count", "load", "prepare", "report", "total"]
    record = client.pipelines.get(project="pipes", pipeline_run_id=result.id)
    assert record.steps[0].name == "load"
    assert {s.status for s in record.steps} == {"FINISHED"}
    assert record.params == {"n": 4, "factor": 2.0}
    prepare = next(s for s in record.steps if s.name == "prepare")
    assert prepare.upstream == ["load"] and prepare.params == {"factor": 2.0}
    # tracking: the pipeline is a parent run, each step a child run
    parent = client.runs.get(result.run_id)
    assert parent.status == "FINISHED"
    child = client.runs.get(prepare.run_id)
    assert child.parent_id == result.run_id and child.status == "FINISHED"
    # lineage: the step's run used its input's artifact and produced its output's
    lineage = client.runs.lineage(prepare.run_id)
    load_digest = next(s for s in record.steps if s.name == "load").output_digest
    assert any(e.dst == f"artifact:{load_digest}" and e.relation == "used" for e in lineage.upstream)
    assert any(
        e.src == f"artifact:{prepare.output_digest}" and e.relation == "produced_by"
        for e in lineage.downstream
    )


def test_a_second_run_is_all_cached_and_runs_nothing(client: Any) -> None:
    first = run_pipeline(demo.demo, client, project="pipes")
    demo.CALLS.clear()
    second = run_pipeline(demo.demo, client, project="pipes")
    assert demo.CALLS == []
    assert all(s.cached and s.status == "CACHED" for s in second.steps.values())
    assert {n: s.digest for n, s in first.steps.items()} == {n: s.digest for n, s in second.steps.items()}
    assert second.value("report") == first.value("report")
    shown = client.pipelines.get(project="pipes", pipeline_run_id=second.id)
    assert all(s.cached for s in shown.steps)
    # nothing ran, so no tracking run was made; the first run's parent and children are all there are
    assert second.run_id is None and shown.run_id is None and shown.status == "FINISHED"
    assert len(client.runs.search(project="pipes").items) == 1 + len(first.steps)


def test_a_changed_param_reruns_only_what_depends_on_it(client: Any) -> None:
    run_pipeline(demo.demo, client, project="pipes")
    demo.CALLS.clear()
    result = run_pipeline(demo.demo, client, project="pipes", params={"factor": 3.0})
    assert "load" not in demo.CALLS and "prepare" in demo.CALLS
    assert result.steps["load"].cached and not result.steps["prepare"].cached


def test_no_cache_and_rerun(client: Any) -> None:
    run_pipeline(demo.demo, client, project="pipes")
    demo.CALLS.clear()
    run_pipeline(demo.demo, client, project="pipes", no_cache=True)
    assert sorted(demo.CALLS) == ["count", "load", "prepare", "report", "total"]
    demo.CALLS.clear()
    result = run_pipeline(demo.demo, client, project="pipes", rerun=["total"])
    # total reruns; its output is the same bytes, so report downstream stays a hit
    assert demo.CALLS == ["total"]
    assert not result.steps["total"].cached and result.steps["report"].cached


def test_rerun_of_an_unknown_step_is_refused_before_anything_runs(client: Any) -> None:
    with pytest.raises(InvalidInput, match="--rerun 'trian': no such step"):
        run_pipeline(demo.demo, client, project="pipes", rerun=["trian"])
    assert demo.CALLS == [] and client.pipelines.list(project="pipes") == []


def test_a_step_that_raises_fails_the_pipeline_naming_it_and_keeps_earlier_outputs(client: Any) -> None:
    with pytest.raises(StepFailed) as err:
        run_pipeline(demo.failing, client, project="pipes")
    assert "step boom failed: ValueError: the data has no label column" in err.value.message
    assert err.value.exit_code == 1
    [run] = client.pipelines.list(project="pipes")
    shown = client.pipelines.get(project="pipes", pipeline_run_id=run.id)
    assert shown.status == "FAILED" and shown.failed_step == "boom"
    status = {s.name: s.status for s in shown.steps}
    assert status["boom"] == "FAILED" and status["load"] == "FINISHED"
    assert client.runs.get(shown.run_id).status == "FAILED"
    # the outputs made before the failure are cached: the next run computes only the failing step
    demo.CALLS.clear()
    with pytest.raises(StepFailed):
        run_pipeline(demo.failing, client, project="pipes")
    assert "load" not in demo.CALLS


def test_a_step_returning_the_wrong_type_fails_naming_it(client: Any) -> None:
    with pytest.raises(StepFailed, match="step wrong returned str, but it declares -> int"):
        run_pipeline(demo.wrong_type, client, project="pipes")


def test_the_process_pool_gives_the_same_digests(client: Any) -> None:
    inline = run_pipeline(demo.demo, client, project="pipes", no_cache=True)
    pooled = run_pipeline(demo.demo, client, project="pipes", no_cache=True, jobs=2)
    assert {n: s.digest for n, s in inline.steps.items()} == {n: s.digest for n, s in pooled.steps.items()}
    assert all(not s.cached for s in pooled.steps.values())


def test_a_failure_in_the_pool_names_the_step(client: Any) -> None:
    with pytest.raises(StepFailed, match="step boom failed: ValueError"):
        run_pipeline(demo.failing, client, project="pipes", jobs=2)


def test_the_cache_is_shared_through_the_database_and_store(client: Any, tmp_path: Any) -> None:
    from keel.client import connect

    run_pipeline(demo.demo, client, project="pipes")
    other = connect(settings=client.settings)  # another process/machine on the same metadata and objects
    demo.CALLS.clear()
    result = run_pipeline(demo.demo, other, project="pipes")
    assert demo.CALLS == [] and all(s.cached for s in result.steps.values())


def test_keel_step_pipeline_and_run_pipeline_are_the_public_names(tmp_path: Any, monkeypatch: Any) -> None:
    import keel

    monkeypatch.chdir(tmp_path)
    keel.init(project="sdk", create=True)  # no workspace here: one is made in this folder

    @keel.step(cpu=1)
    def square(x: int) -> int:
        return x * x

    @keel.pipeline
    def sq(x: int = 3) -> object:
        return square(x)

    result = keel.run_pipeline(sq, {"x": 4})
    assert result.value("square") == 16
    assert keel.run_pipeline(sq, {"x": 4}).steps["square"].cached
