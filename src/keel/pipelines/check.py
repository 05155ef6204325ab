"""Static checks before anything runs: parameters against their declared types and ranges,
step inputs against the outputs they take, and the graph for cycles.

Every check raises :class:`~keel.core.errors.InvalidInput` naming the step or
parameter, so a bad pipeline starts nothing and records nothing.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from graphlib import CycleError, TopologicalSorter
from typing import Any, get_origin, get_type_hints

from pydantic import TypeAdapter, ValidationError

from keel.core.errors import InvalidInput
from keel.pipelines.define import Node


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return str(err.get("msg", exc))


def check_params(fn: Callable[..., Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """The pipeline's parameters: defaults filled in, each validated against its annotation.

    ``lr: Annotated[float, Field(gt=0, le=1)] = 0.1`` declares a range; an
    unannotated parameter takes the type of its default. Raises InvalidInput
    for an unknown parameter, a missing one or one outside its type or range.
    """
    sig = inspect.signature(fn)
    try:
        hints = get_type_hints(fn, include_extras=True)
    except Exception:
        hints = {}
    unknown = sorted(set(given) - set(sig.parameters))
    if unknown:
        raise InvalidInput(
            f"pipeline {fn.__name__} has no parameter {unknown[0]!r} (it takes: {', '.join(sig.parameters) or 'none'})"
        )
    values: dict[str, Any] = {}
    for name, param in sig.parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise InvalidInput(
                f"pipeline {fn.__name__}: *args/**kwargs parameters cannot be recorded; name each"
            )
        if name in given:
            value = given[name]
        elif param.default is not param.empty:
            value = param.default
        else:
            raise InvalidInput(f"pipeline {fn.__name__}: parameter {name!r} is required and has no default")
        annotation = hints.get(name)
        if annotation is None and param.default is not param.empty and param.default is not None:
            annotation = type(param.default)
        if annotation is not None:
            try:
                value = TypeAdapter(annotation).validate_python(value)
            except ValidationError as exc:
                raise InvalidInput(
                    f"pipeline {fn.__name__}: parameter {name!r} = {value!r}: {_first_error(exc)}"
                ) from exc
        values[name] = value
    return values


def _plain(tp: Any) -> type | None:
    """A class to compare with issubclass, or None where the annotation is not a plain class."""
    origin = get_origin(tp)
    if origin is not None:
        tp = origin
    return tp if isinstance(tp, type) else None


def check_types(nodes: Mapping[str, Node]) -> None:
    """Each input's declared type must accept the producing step's declared return type."""
    for node in nodes.values():
        for arg, producer in node.inputs.items():
            wanted = node.step.hints.get(arg)
            given = nodes[producer].step.returns
            if wanted is None or wanted is Any or given is inspect.Parameter.empty or given is Any:
                continue
            want_cls, give_cls = _plain(wanted), _plain(given)
            if want_cls is None or give_cls is None or want_cls is object:
                continue
            if want_cls is float and give_cls is int:
                continue  # numbers widen as Python's typing allows
            if not issubclass(give_cls, want_cls):
                raise InvalidInput(
                    f"step {node.name}: input {arg!r} expects {want_cls.__name__} but step "
                    f"{producer} returns {give_cls.__name__}"
                )


def check_values(nodes: Mapping[str, Node]) -> None:
    """Each literal argument must fit its step parameter's annotation (and range)."""
    for node in nodes.values():
        for arg, value in node.params.items():
            annotation = node.step.hints.get(arg)
            if annotation is None:
                continue
            try:
                node.params[arg] = TypeAdapter(annotation).validate_python(value)
            except ValidationError as exc:
                raise InvalidInput(
                    f"step {node.name}: parameter {arg!r} = {value!r}: {_first_error(exc)}"
                ) from exc


def order(nodes: Mapping[str, Node]) -> list[str]:
    """The nodes in an order that runs each after what it depends on; a cycle is refused, named."""
    for node in nodes.values():
        missing = sorted(d for d in node.depends_on() if d not in nodes)
        if missing:
            raise InvalidInput(
                f"step {node.name}: depends on {missing[0]!r}, which is not a step of this pipeline"
            )
    sorter = TopologicalSorter({n.name: n.depends_on() for n in nodes.values()})
    try:
        return list(sorter.static_order())
    except CycleError as exc:
        cycle = exc.args[1] if len(exc.args) > 1 else []
        raise InvalidInput(f"pipeline has a cycle: {' -> '.join(map(str, cycle))}") from exc


def check_output(node: Node, value: Any) -> None:
    """A step's result against its declared return type; raises InvalidInput naming the step."""
    declared = node.step.returns
    if declared is inspect.Parameter.empty or declared is Any or (declared is None and value is None):
        return
    cls = declared if isinstance(declared, type) else None
    if cls is not None:
        if cls is float and isinstance(value, int) and not isinstance(value, bool):
            return
        if isinstance(value, cls):
            return
        raise InvalidInput(
            f"step {node.name} returned {type(value).__name__}, but it declares -> {cls.__name__}"
        )
    try:
        TypeAdapter(declared).validate_python(value, strict=True)
    except ValidationError as exc:
        raise InvalidInput(
            f"step {node.name} returned {type(value).__name__}, not its declared type: {_first_error(exc)}"
        ) from exc
    except Exception:  # an annotation pydantic cannot build a validator for: nothing to check against
        return
