"""``@pipeline``: a function of parameters whose step calls make the DAG, and its checked plan."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from keel.core.errors import InvalidInput
from keel.pipelines.check import check_params, check_types, check_values, order
from keel.pipelines.define import Node, Output, trace
from keel.pipelines.shell import link_files


@dataclass
class Plan:
    """A pipeline traced and checked: its parameters, its nodes and an order to run them in."""

    pipeline: str
    params: dict[str, Any]
    nodes: dict[str, Node]
    order: list[str]
    #: The step names the pipeline function returned (its results), in the order returned.
    results: list[str]

    def check_steps(self, names: Iterable[str], option: str) -> list[str]:
        """``names`` as step names of this plan; an unknown one is refused, named, with the choices."""
        names = list(names)
        for name in names:
            if name not in self.nodes:
                raise InvalidInput(
                    f"{option} {name!r}: no such step in pipeline {self.pipeline} "
                    f"(steps: {', '.join(self.order)})"
                )
        return names


def _results(returned: Any) -> list[str]:
    if isinstance(returned, Output):
        return [returned.node]
    if isinstance(returned, tuple | list):
        return [r.node for r in returned if isinstance(r, Output)]
    if isinstance(returned, dict):
        return [r.node for r in returned.values() if isinstance(r, Output)]
    return []


class Pipeline:
    """A traced DAG of steps with typed parameters. Run it with ``keel.run_pipeline`` or ``keel pipeline run``."""

    def __init__(self, fn: Callable[..., Any], name: str | None = None) -> None:
        self.fn = fn
        self.name = name or fn.__name__
        self.signature = inspect.signature(fn)
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    def plan(self, params: Mapping[str, Any] | None = None) -> Plan:
        """Trace and check before anything runs.

        Raises InvalidInput for a parameter of the wrong type or outside its
        range, a step called without an input, an input whose type the
        producing step cannot give, or a cycle.
        """
        values = check_params(self.fn, params or {})
        nodes, returned = trace(self.fn, values)
        check_values(nodes)
        check_types(nodes)
        link_files(nodes)
        return Plan(self.name, values, nodes, order(nodes), _results(returned))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise InvalidInput(
            f"pipeline {self.name} is run with keel.run_pipeline({self.name}, ...) or "
            f"`keel pipeline run FILE.py:{self.name}`, not called"
        )

    def __repr__(self) -> str:
        return f"<keel pipeline {self.name}>"


def pipeline(fn: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
    """Make a function a pipeline: ``@keel.pipeline`` or ``@keel.pipeline(name="churn")``."""

    def wrap(f: Callable[..., Any]) -> Pipeline:
        return Pipeline(f, name=name)

    return wrap(fn) if fn is not None else wrap
