"""Static checks before running: nothing starts and nothing is recorded for a bad pipeline."""

from __future__ import annotations

from typing import Any

import pytest

import keel.pipelines as kp
from keel.core.errors import InvalidInput
from keel.pipelines.run import run_pipeline
from pipelines import steps_demo as demo


def test_the_dag_comes_from_the_data() -> None:
    plan = demo.demo.plan({"n": 5})
    assert plan.order[0] == "load" and plan.order[-1] == "report"
    assert plan.nodes["report"].inputs == {"s": "total", "n": "count"}
    assert plan.nodes["prepare"].params == {"factor": 2.0}
    assert plan.params == {"n": 5, "factor": 2.0}
    assert plan.results == ["report"]


def test_a_parameter_outside_its_range_is_refused_naming_it(client: Any) -> None:
    with pytest.raises(
        InvalidInput, match=r"parameter 'n' = 1000: Input should be less than or equal to 100"
    ):
        run_pipeline(demo.demo, client, project="pipes", params={"n": 1000})
    assert demo.CALLS == [] and client.pipelines.list(project="pipes") == []


def test_a_parameter_of_the_wrong_type_or_unknown_is_refused() -> None:
    with pytest.raises(InvalidInput, match="parameter 'factor' = 'fast'"):
        demo.demo.plan({"factor": "fast"})
    with pytest.raises(InvalidInput, match="has no parameter 'lr'"):
        demo.demo.plan({"lr": 0.1})


def test_a_cycle_is_refused_naming_it() -> None:
    with pytest.raises(
        InvalidInput, match=r"pipeline has a cycle: (count -> total -> count|total -> count -> total)"
    ):
        demo.cyclic.plan()


def test_a_missing_input_is_refused_naming_the_step() -> None:
    with pytest.raises(InvalidInput, match="step report: missing a required argument: 'n'"):
        demo.missing_input.plan()


def test_a_type_mismatch_is_refused_before_running() -> None:
    with pytest.raises(
        InvalidInput, match="step needs_text: input 's' expects str but step count returns int"
    ):
        demo.mismatch.plan()


def test_a_step_parameter_is_checked_against_its_annotation() -> None:
    @kp.step
    def one(x: int) -> int:
        return x

    @kp.pipeline
    def p() -> object:
        return one("many")

    with pytest.raises(InvalidInput, match="step one: parameter 'x' = 'many'"):
        p.plan()


def test_a_pipeline_without_steps_and_branching_on_an_output_are_refused() -> None:
    @kp.pipeline
    def empty() -> None:
        return None

    @kp.pipeline
    def branchy() -> object:
        if demo.count(demo.load()):
            return None
        return None

    with pytest.raises(InvalidInput, match="calls no step"):
        empty.plan()
    with pytest.raises(InvalidInput, match="branch inside a step"):
        branchy.plan()


def test_a_step_outside_a_pipeline_is_a_plain_function() -> None:
    assert demo.total([1.0, 2.0]) == 3.0
    with pytest.raises(InvalidInput, match=r"is run with keel\.run_pipeline"):
        demo.demo()


def test_a_repeated_step_gets_numbered_names() -> None:
    @kp.pipeline
    def twice() -> object:
        return demo.total(demo.load(2)), demo.total(demo.load(3))

    plan = twice.plan()
    assert sorted(plan.nodes) == ["load", "load_2", "total", "total_2"]
