"""Steps and pipelines in Python: ``@step`` and ``@pipeline``, and the DAG traced from their data.

A pipeline function is called once with its parameters while a tracer is
active; each step call inside it records a node and returns an
:class:`Output` placeholder instead of running. Passing one step's output to
another is what makes an edge, so the DAG is exactly the data flow (plus any
explicit ``out.after(other)`` ordering). Outside a trace a step is a plain
function, so it stays unit-testable.
"""

from __future__ import annotations

import contextvars
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, ParamSpec, TypeVar, get_type_hints

from keel.core.errors import InvalidInput

P = ParamSpec("P")
R = TypeVar("R")

_TRACER: contextvars.ContextVar[Tracer | None] = contextvars.ContextVar("keel_pipeline_tracer", default=None)


@dataclass(frozen=True)
class Resources:
    """What a step asks of the executor (Ray honours all three; the local pool counts processes)."""

    cpu: float = 1.0
    gpu: float = 0.0
    memory: int | None = None


class Step(Generic[P, R]):
    """A function that runs as one cached, tracked unit of a pipeline."""

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        resources: Resources,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.fn = fn
        self.name = fn.__name__
        self.resources = resources
        #: Declared environment (e.g. library versions) that enters the cache key.
        self.env = dict(env or {})
        self.signature = inspect.signature(fn)
        try:
            self.hints = get_type_hints(fn, include_extras=True)
        except Exception:  # an annotation naming something undefined: skip type checks, never fail here
            self.hints = {}
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    @property
    def returns(self) -> Any:
        """The declared return type, or ``inspect.Parameter.empty``."""
        return self.hints.get("return", inspect.Parameter.empty)

    def named(self, name: str) -> Step[P, R]:
        """The same step under another name, for one call (``train.named("gbm-depth2")(data)``).

        The name is the node's, its child run's and its cache key's, so two
        calls of one function read as what they are in listings.
        """
        if type(self) is not Step:
            raise InvalidInput(f"{self!r}: name a shell step with shell(..., name=...)")
        if not name or not name.strip() or ":" in name or "/" in name:
            raise InvalidInput(f"step name {name!r} must be non-empty, without ':' or '/'")
        twin: Step[P, R] = Step(self.fn, resources=self.resources, env=self.env)
        twin.name = name
        return twin

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        tracer = _TRACER.get()
        if tracer is None:
            return self.fn(*args, **kwargs)
        return tracer.add(self, args, kwargs)  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"<keel step {self.name}>"


def step(
    fn: Callable[P, R] | None = None,
    *,
    cpu: float = 1.0,
    gpu: float = 0.0,
    memory: int | None = None,
    env: Mapping[str, str] | None = None,
) -> Any:
    """Make a function a pipeline step: ``@keel.step`` or ``@keel.step(cpu=1, gpu=1, env={...})``."""
    if cpu < 0 or gpu < 0 or (memory is not None and memory < 0):
        raise InvalidInput("step resources (cpu, gpu, memory) must not be negative")

    def wrap(f: Callable[P, R]) -> Step[P, R]:
        return Step(f, resources=Resources(cpu=cpu, gpu=gpu, memory=memory), env=env)

    return wrap(fn) if fn is not None else wrap


@dataclass
class Output:
    """What a step call returns while a pipeline is traced: a placeholder for that step's result."""

    node: str
    annotation: Any
    tracer: Tracer = field(repr=False)

    def after(self, *others: Output) -> Output:
        """Run this step only after ``others`` as well (an ordering edge, no data)."""
        for other in others:
            if not isinstance(other, Output):
                raise InvalidInput(
                    f"step {self.node}: after() takes step outputs, not {type(other).__name__}"
                )
            self.tracer.nodes[self.node].after.add(other.node)
        return self

    def __bool__(self) -> bool:
        raise InvalidInput(
            f"the output of step {self.node} is not known while the pipeline is traced; "
            "branch inside a step, not in the pipeline function"
        )


@dataclass
class Node:
    """One step call in a traced pipeline."""

    name: str
    step: Step[Any, Any]
    #: Argument name -> literal value (recorded as the step run's params).
    params: dict[str, Any]
    #: Argument name -> the name of the node whose output it takes.
    inputs: dict[str, str]
    after: set[str] = field(default_factory=set)

    def depends_on(self) -> set[str]:
        return set(self.inputs.values()) | self.after


class Tracer:
    """Collects the nodes of one trace, in call order."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}

    def add(self, st: Step[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Output:
        name = st.name
        n = 2
        while name in self.nodes:
            name = f"{st.name}_{n}"
            n += 1
        try:
            bound = st.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise InvalidInput(f"step {name}: {exc} (missing or unexpected input)") from exc
        bound.apply_defaults()
        params: dict[str, Any] = {}
        inputs: dict[str, str] = {}
        arguments: dict[str, Any] = {}
        for arg, value in bound.arguments.items():
            kind = st.signature.parameters[arg].kind
            if kind is inspect.Parameter.VAR_KEYWORD:
                arguments.update(value)  # **kwargs: each keyword is an argument of its own
            elif kind is inspect.Parameter.VAR_POSITIONAL:
                if not value:
                    continue
                raise InvalidInput(f"step {name}: *{arg} cannot be passed by name; use **kwargs or name each")
            else:
                arguments[arg] = value
        for arg, value in arguments.items():
            if isinstance(value, Output):
                inputs[arg] = value.node
            elif _holds_output(value):
                raise InvalidInput(
                    f"step {name}: argument {arg!r} nests a step output inside a container; pass it directly"
                )
            else:
                params[arg] = value
        self.nodes[name] = Node(name=name, step=st, params=params, inputs=inputs)
        return Output(node=name, annotation=st.returns, tracer=self)


def _holds_output(value: Any) -> bool:
    if isinstance(value, Output):
        return True
    if isinstance(value, list | tuple | set):
        return any(_holds_output(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_output(v) for v in value.values())
    return False


def trace(fn: Callable[..., Any], params: Mapping[str, Any]) -> tuple[dict[str, Node], Any]:
    """Call a pipeline function under a tracer: its nodes, and what it returned (outputs or None)."""
    tracer = Tracer()
    token = _TRACER.set(tracer)
    try:
        returned = fn(**params)
    finally:
        _TRACER.reset(token)
    if not tracer.nodes:
        raise InvalidInput(f"pipeline {fn.__name__} calls no step")
    return tracer.nodes, returned
