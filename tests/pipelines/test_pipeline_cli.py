"""``keel pipeline`` as a user types it: run from a file, cached re-run, --rerun, --no-cache, ls, show, bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FILE = """
import keel.pipelines as kp

@kp.step
def make(n: int) -> list[int]:
    return list(range(n))

@kp.step
def double(xs: list[int]) -> list[int]:
    return [2 * x for x in xs]

@kp.step
def total(xs: list[int]) -> int:
    return sum(xs)

@kp.step
def explode(x: int) -> int:
    raise RuntimeError("disk full")

@kp.pipeline
def flow(n: int = 4):
    return total(double(make(n)))

@kp.step
def fit(lr: float) -> float:
    kp.log_metric("score", 1 - abs(lr - 0.3))
    return lr

@kp.pipeline
def tune(lr: float = 0.1):
    return fit(lr)

@kp.pipeline
def broken():
    return explode(total(make(3)))
"""


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]) -> Any:
    monkeypatch.chdir(tmp_path)
    assert keel_cli("init").code == 0
    (tmp_path / "flow.py").write_text(FILE)
    return keel_cli


def test_run_rerun_ls_and_show(shell: Any, tmp_path: Path) -> None:
    first = shell("pipeline", "run", "flow.py:flow", "-P", "n=5", "--json")
    assert first.code == 0, first.err
    run = json.loads(first.out)
    assert run["status"] == "FINISHED" and [s["status"] for s in run["steps"]] == ["FINISHED"] * 3
    lock = (tmp_path / "keel.lock").read_text()  # written where the command ran, for git
    assert "flow:" in lock and run["steps"][0]["output_digest"] in lock
    again = shell("pipeline", "run", "flow.py:flow", "-P", "n=5")
    assert again.code == 0 and "0 ran, 3 cached" in again.out
    rerun = shell("pipeline", "run", "flow.py:flow", "-P", "n=5", "--rerun", "double", "--json")
    assert [s["cached"] for s in json.loads(rerun.out)["steps"]] == [True, False, True]
    fresh = shell("pipeline", "run", "flow.py:flow", "-P", "n=5", "--no-cache", "--jobs", "2", "--json")
    steps = json.loads(fresh.out)["steps"]
    assert not any(s["cached"] for s in steps)
    assert [s["output_digest"] for s in steps] == [s["output_digest"] for s in run["steps"]]
    listed = json.loads(shell("pipeline", "ls", "--json").out)
    assert len(listed) == 4 and listed[-1]["id"] == run["id"]
    shown = shell("pipeline", "show", run["id"])
    assert shown.code == 0 and "double" in shown.out and "make" in shown.out
    unknown = shell("pipeline", "show", "01NOSUCHRUN")
    assert unknown.code == 2 and "no pipeline run with id '01NOSUCHRUN'" in unknown.err


def test_a_failing_step_is_exit_1_naming_it(shell: Any) -> None:
    result = shell("pipeline", "run", "flow.py:broken")
    assert result.code == 1
    assert "step explode failed: RuntimeError: disk full" in result.err
    [run] = json.loads(shell("pipeline", "ls", "--json").out)
    assert run["status"] == "FAILED" and run["failed_step"] == "explode"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["flow.py:nope"], "flow.py has no 'nope'"),
        (["missing.py:flow"], "pipeline file missing.py does not exist"),
        (["flow.py"], "write FILE.py:NAME"),
        (["flow.py:make"], "not a pipeline"),
        (["flow.py:flow", "-P", "n=many"], "parameter 'n' = 'many'"),
        (["flow.py:flow", "-P", "lr=0.1"], "has no parameter 'lr'"),
        (["flow.py:flow", "--rerun", "dobule"], "--rerun 'dobule': no such step"),
        (["flow.py:flow", "--jobs", "0"], "--jobs must be at least 1"),
        (["flow.py:flow", "--executor", "slurm"], "unknown executor 'slurm'"),
        (
            ["flow.py:flow", "--executor", "ray", "--ray-address", "127.0.0.1:1"],
            "no Ray cluster answers there",
        ),
    ],
)
def test_bad_input_is_exit_2_and_records_nothing(shell: Any, args: list[str], message: str) -> None:
    result = shell("pipeline", "run", *args)
    assert result.code == 2, result.out + result.err
    assert message in result.err
    assert json.loads(shell("pipeline", "ls", "--json").out) == []


def test_trigger_add_ls_fire_firings_rm(shell: Any, tmp_path: Path) -> None:
    added = shell("pipeline", "trigger", "add", "flow.py:flow", "--on", "manual", "-P", "n=2", "--json")
    assert added.code == 0, added.err
    trigger = json.loads(added.out)
    assert trigger["target"] == f"{tmp_path / 'flow.py'}:flow" and trigger["params"] == {"n": 2}
    assert [t["id"] for t in json.loads(shell("pipeline", "trigger", "ls", "--json").out)] == [trigger["id"]]
    fired = shell("pipeline", "trigger", "fire", trigger["id"], "--reason", "by hand")
    assert fired.code == 0 and "queued firing" in fired.out
    [firing] = json.loads(shell("pipeline", "trigger", "firings", "--json").out)
    assert firing["status"] == "PENDING" and firing["reason"] == "by hand"
    nothing = shell("pipeline", "trigger", "fire", "--event", "drift:nobody")
    assert nothing.code == 0 and "no trigger of this project is on that event" in nothing.out
    assert shell("pipeline", "trigger", "rm", trigger["id"]).code == 0
    assert json.loads(shell("pipeline", "trigger", "ls", "--json").out) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["flow.py:flow", "--on", "whenever"], "write data:DATASET"),
        (["flow.py:flow", "--on", "data:nothing"], "event 'data:nothing'"),
        (["flow.py:flow", "--on", "schedule:* * *"], "five fields"),
        (["flow.py:flow", "--on", "manual", "-P", "n=many"], "parameter 'n' = 'many'"),
        (["missing.py:flow", "--on", "manual"], "does not exist"),
    ],
)
def test_bad_triggers_are_exit_2_and_record_nothing(shell: Any, args: list[str], message: str) -> None:
    result = shell("pipeline", "trigger", "add", *args)
    assert result.code == 2, result.out + result.err
    assert message in result.err
    assert json.loads(shell("pipeline", "trigger", "ls", "--json").out) == []


def test_sweep_prints_the_leaderboard(shell: Any) -> None:
    result = shell(
        "pipeline",
        "sweep",
        "flow.py:tune",
        "-P",
        "lr=choice(0.1,0.3)",
        "--sampler",
        "grid",
        "--objective",
        "score",
        "--json",
    )
    assert result.code == 0, result.err
    swept = json.loads(result.out)
    assert [t["params"]["lr"] for t in swept["leaderboard"]] == [0.3, 0.1]
    table = shell(
        "pipeline",
        "sweep",
        "flow.py:tune",
        "-P",
        "lr=uniform(0.1,0.5)",
        "--trials",
        "2",
        "--objective",
        "score",
    )
    assert table.code == 0 and "2 trials in" in table.out and "stopped by trials" in table.out
    bad = shell("pipeline", "sweep", "flow.py:tune", "-P", "lr=uniform(0.1,0.5)", "--budget-time", "0s")
    assert bad.code == 2 and "--budget-time '0s' must be longer than zero" in bad.err
