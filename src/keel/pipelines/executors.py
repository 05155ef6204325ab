"""Where step functions run: in this process, or a local pool of processes (``--jobs``).

An executor takes a step call and reports its outcome to a callback:
``("ok", (value, metric_points))`` or ``("error", ("ValueError: message", traceback))``. Everything around
the call (cache, storage, tracking) stays in the driver, so every executor
gives the same outputs, byte for byte. The pool forks its workers after the
plan's steps are registered, so steps defined anywhere (a test, a file loaded
by path) resolve in the workers by name without pickling functions.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable
from typing import Any, Protocol

from keel.core.errors import InvalidInput
from keel.pipelines.define import Step
from keel.pipelines.steplog import collecting

Outcome = tuple[str, Any]
Callback = Callable[[str, Outcome], None]

#: The steps of the plan being run, by node name; forked workers inherit it.
_STEPS: dict[str, Step[Any, Any]] = {}


def call_step(node: str, kwargs: dict[str, Any]) -> Outcome:
    """Run one step's function by node name (see :func:`call_function`)."""
    return call_function(_STEPS[node].fn, kwargs)


def call_function(fn: Callable[..., Any], kwargs: dict[str, Any]) -> Outcome:
    """Run a step's function; an exception becomes an error outcome with its type and message.

    The metrics the step logged (:mod:`keel.pipelines.steplog`) come back beside its value.
    """
    try:
        with collecting() as points:
            value = fn(**kwargs)
        return "ok", (value, points)
    except Exception as exc:
        tb = traceback.format_exc(limit=-3)
        return "error", (f"{type(exc).__name__}: {exc}", tb)


class Executor(Protocol):
    def submit(self, node: str, kwargs: dict[str, Any], done: Callback) -> None: ...

    def close(self) -> None: ...


class InlineExecutor:
    """Runs each step in the driver's process, one at a time."""

    def submit(self, node: str, kwargs: dict[str, Any], done: Callback) -> None:
        done(node, call_step(node, kwargs))

    def close(self) -> None:
        return None


class PoolExecutor:
    """Runs steps in ``jobs`` forked worker processes; independent steps run at once."""

    def __init__(self, jobs: int) -> None:
        if "fork" not in multiprocessing.get_all_start_methods():
            raise InvalidInput("--jobs needs the fork start method (Linux, macOS); use --jobs 1 here")
        self.pool = multiprocessing.get_context("fork").Pool(jobs)

    def submit(self, node: str, kwargs: dict[str, Any], done: Callback) -> None:
        def ok(outcome: Outcome) -> None:
            done(node, outcome)

        def failed(exc: BaseException) -> None:  # the result could not come back (unpicklable, say)
            done(node, ("error", (f"{type(exc).__name__}: {exc}", "")))

        self.pool.apply_async(call_step, (node, kwargs), callback=ok, error_callback=failed)

    def close(self) -> None:
        self.pool.close()
        self.pool.join()


EXECUTORS = ("local", "ray")


def make_executor(
    kind: str, jobs: int, steps: dict[str, Step[Any, Any]], address: str | None = None
) -> Executor:
    """The executor named ``kind``: ``local`` (in-process for one job, a process pool for more) or ``ray``."""
    if kind not in EXECUTORS:
        raise InvalidInput(f"unknown executor {kind!r}: choose {' or '.join(EXECUTORS)}")
    if kind == "ray":
        from keel.pipelines.ray_executor import RayExecutor

        return RayExecutor(steps, address)
    if address is not None:
        raise InvalidInput("--ray-address goes with --executor ray")
    if jobs < 1:
        raise InvalidInput(f"--jobs must be at least 1, not {jobs}")
    _STEPS.clear()
    _STEPS.update(steps)
    return InlineExecutor() if jobs == 1 else PoolExecutor(jobs)
