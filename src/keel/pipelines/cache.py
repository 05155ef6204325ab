"""The cache key of a step: what its output depends on, hashed with BLAKE3.

The key covers the step's source, the source of the user's own functions it
calls from the same module (found through the names its code loads, followed
transitively, so editing a helper invalidates the step), its parameters as
canonical JSON, its inputs' digests by argument name, its declared
environment, the Python minor version and the output encoding's version. A
key says nothing of where it was computed, so a cache hit on one machine is
a hit on every machine that shares the metadata store and artifact store.
"""

from __future__ import annotations

import inspect
import json
import sys
import types
from collections.abc import Mapping
from typing import Any

from blake3 import blake3

from keel.pipelines.define import Node, Step

#: Bump when the key's recipe changes, so old entries stop matching rather than lie.
KEY_VERSION = "keel-step-key/1"


def _source(fn: Any) -> str:
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):  # no file (a REPL, exec): the compiled code stands in for the text
        code = getattr(fn, "__code__", None)
        return repr(code.co_code) + repr(code.co_consts) if code is not None else repr(fn)


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _own_callees(fn: Any) -> list[Any]:
    """The functions (and steps) of ``fn``'s own module that ``fn`` refers to, transitively, sorted by name."""
    module = getattr(fn, "__module__", None)
    seen: dict[str, Any] = {}
    todo = [fn]
    while todo:
        current = todo.pop()
        code = getattr(current, "__code__", None)
        if code is None:
            continue
        scope = getattr(current, "__globals__", {})
        for name in _names(code):
            target = scope.get(name)
            if isinstance(target, Step):
                target = target.fn
            if (
                isinstance(target, types.FunctionType)
                and target.__module__ == module
                and target is not fn
                and target.__qualname__ not in seen
            ):
                seen[target.__qualname__] = target
                todo.append(target)
    return [seen[k] for k in sorted(seen)]


def code_digest(st: Step[Any, Any]) -> str:
    """BLAKE3 of the step's source and its same-module helpers' sources."""
    h = blake3()
    for fn in [st.fn, *_own_callees(st.fn)]:
        h.update(getattr(fn, "__qualname__", "").encode() + b"\0" + _source(fn).encode() + b"\0")
    return h.hexdigest()


def canonical(value: Any) -> str:
    """Parameters as canonical JSON; values JSON cannot hold are written by repr, which is stable for them."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr)


def cache_key(node: Node, code: str, input_digests: Mapping[str, str]) -> str:
    """The key of one step call: its code digest, params, inputs' digests and declared environment."""
    record = {
        "v": KEY_VERSION,
        "step": node.step.name,
        "code": code,
        "params": node.params,
        "inputs": dict(sorted(input_digests.items())),
        "env": dict(sorted(node.step.env.items())),
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
    }
    return blake3(canonical(record).encode()).hexdigest()
