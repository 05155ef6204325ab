"""Sweeps: grid, random and TPE over a pipeline's parameters, budgets, child runs and the leaderboard."""

from __future__ import annotations

import re
from typing import Any

import pytest

from keel.core.errors import InvalidInput
from keel.pipelines.sweep import parse_dimension, run_sweep
from pipelines import steps_demo as demo


def test_a_grid_sweep_runs_every_combination_as_child_runs_and_ranks_them(client: Any) -> None:
    result = run_sweep(
        demo.tune,
        client,
        project="pipes",
        space={"lr": "choice(0.1,0.3,0.5)", "depth": "int(2,3)"},
        sampler="grid",
        trials=100,
        objective="score",
    )
    assert len(result.trials) == 6 and result.stopped_by == "trials"
    assert {(t.params["lr"], t.params["depth"]) for t in result.trials} == {
        (lr, d) for lr in (0.1, 0.3, 0.5) for d in (2, 3)
    }
    best = result.leaderboard[0]
    assert best.params == {"lr": 0.3, "depth": 3} and best.score == pytest.approx(1.03)
    for trial in result.trials:
        assert client.runs.get(trial.run_id).parent_id == result.run_id
    sweep = client.runs.get(result.run_id)
    assert sweep.status == "FINISHED" and sweep.metrics["best_score"] == pytest.approx(1.03)
    assert sweep.tags["keel.best_trial"] == str(best.number)


def test_random_sweep_in_parallel_with_a_cost_budget_stops_starting_trials(client: Any) -> None:
    result = run_sweep(
        demo.tune,
        client,
        project="pipes",
        space={"lr": "loguniform(0.01,1)"},
        sampler="random",
        trials=6,
        jobs=2,
        objective="score",
        hourly_price=3600.0,  # one unit of cost per second of a trial
        budget_cost=1e-9,
    )
    assert result.stopped_by == "cost" and 1 <= len(result.trials) < 6
    assert all(t.cost is not None and t.cost > 0 for t in result.trials)
    assert all(0.01 <= t.params["lr"] <= 1 for t in result.trials)
    assert result.leaderboard[0].score_per_cost is not None


def test_tpe_sweep_prunes_between_steps(client: Any) -> None:
    pytest.importorskip("optuna")
    result = run_sweep(
        demo.tune,
        client,
        project="pipes",
        space={"lr": "uniform(0.01,1)"},
        sampler="tpe",
        trials=8,
        objective="score",
    )
    assert len(result.trials) == 8
    assert {t.status for t in result.trials} <= {"FINISHED", "PRUNED"}
    for trial in result.trials:
        if trial.status == "PRUNED":
            assert "pruned by the sweep after step learn" in (trial.error or "")
            assert (
                client.pipelines.get(project="pipes", pipeline_run_id=trial.pipeline_run_id).status
                == "FAILED"
            )
    assert result.leaderboard and result.leaderboard[0].status == "FINISHED"


def test_the_objective_defaults_to_the_projects_primary_kpi(make_keel: Any) -> None:
    c = make_keel()
    c.projects.create(name="k", kpis=["score >= 0.5"])
    result = run_sweep(demo.tune, c, project="k", space={"lr": [0.2, 0.3]}, sampler="grid")
    assert result.objective == "score" and result.direction == "maximize"
    assert result.leaderboard[0].params == {"lr": 0.3}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"space": {"lr": "uniform(1,0)"}}, "the low end 1 must be below the high end 0"),
        ({"space": {"lr": "loguniform(0,1)"}}, "loguniform needs a positive low end"),
        ({"space": {"lr": "normal(0,1)"}}, "write uniform(a,b)"),
        ({"space": {"lr": "uniform(0.1,0.9)"}, "sampler": "grid"}, "a grid needs choice"),
        ({"space": {"lr": "uniform(0.1,0.9)"}, "sampler": "bayes"}, "unknown sampler 'bayes'"),
        ({"space": {"lr": "uniform(0.1,0.9)"}, "budget_time_s": 0}, "is already spent"),
        ({"space": {"lr": "uniform(0.1,0.9)"}, "budget_cost": 5}, "needs --hourly-price"),
        ({"space": {"nope": "uniform(0.1,0.9)"}}, "has no parameter 'nope'"),
        ({"space": {"lr": "uniform(0.1,0.9)"}, "params": {"lr": 0.2}}, "both fixed and swept"),
        ({"space": {}}, "at least one --param"),
        ({"space": {"lr": "uniform(0.1,0.9)"}, "objective": None}, "has no KPI to rank trials by"),
    ],
)
def test_bad_sweeps_are_refused_before_any_run(client: Any, kwargs: dict[str, Any], message: str) -> None:
    kwargs = {"objective": "score", **kwargs}
    with pytest.raises(InvalidInput, match=re.escape(message)):
        run_sweep(demo.tune, client, project="pipes", **kwargs)
    assert client.runs.search(project="pipes").items == []
    assert client.pipelines.list(project="pipes") == []


def test_dimensions_parse() -> None:
    assert parse_dimension("d", "choice(2, 4, deep)").choices == (2, 4, "deep")
    assert parse_dimension("n", "int(1,3)").kind == "int"
    with pytest.raises(InvalidInput, match="whole numbers"):
        parse_dimension("n", "int(1.5,3)")
