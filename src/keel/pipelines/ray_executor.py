"""Steps on a Ray cluster (``--executor ray --ray-address auto|host:port|ray://host:port``).

Keel schedules nothing itself here: each ready step becomes one Ray task
with the step's declared resources (``cpu``, ``gpu``, ``memory`` in bytes),
and a thread per task hands its outcome back to the driver, which keeps
caching, storage, tracking and lineage on the caller's side exactly as with
the local executors, so the same pipeline gives the same digests. Step
functions from a file loaded by path (or from a test module the workers
cannot import) travel by value (cloudpickle); Keel's own modules by name.

Without an address, a Ray already started in this process is used, or a
local one is started for the run and stopped after it. An address is
checked with a plain TCP connect before anything is recorded, so an
unreachable cluster is a clear error and nothing starts. Ray itself is an
optional dependency: ``pip install 'keel[ray]'``.
"""

from __future__ import annotations

import socket
import sys
import threading
from typing import Any
from urllib.parse import urlsplit

from keel.core.errors import InvalidInput
from keel.pipelines.define import Step
from keel.pipelines.executors import Callback, Outcome, call_function

#: Seconds to wait for a cluster address to accept a TCP connection.
CONNECT_TIMEOUT_S = 3.0


def check_address(address: str) -> None:
    """Refuse an address no Ray head listens on (``auto`` is Ray's own discovery, left to it)."""
    if address == "auto":
        return
    parts = urlsplit(address if "://" in address else f"ray-gcs://{address}")
    if not parts.hostname or parts.port is None:
        raise InvalidInput(f"--ray-address {address!r}: write auto, HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise InvalidInput(
            f"--ray-address {address}: no Ray cluster answers there ({exc.strerror or exc}); nothing was started",
            hint="start one with `ray start --head`, or drop --ray-address to run on a local Ray",
        ) from None


def _by_value(fn: Any) -> None:
    """Send ``fn``'s module by value unless workers can import it by name (Keel's own, installed ones)."""
    from ray import cloudpickle  # Ray's own copy: the one that pickles task arguments

    module = sys.modules.get(getattr(fn, "__module__", "") or "")
    if module is None or module.__name__.startswith("keel.") or module.__name__ == "keel":
        return
    path = getattr(module, "__file__", "") or ""
    if "site-packages" in path:
        return
    cloudpickle.register_pickle_by_value(module)  # type: ignore[no-untyped-call]


class RayExecutor:
    """Runs each step as a Ray task with its declared resources."""

    def __init__(self, steps: dict[str, Step[Any, Any]], address: str | None) -> None:
        try:
            import ray
        except ImportError:
            raise InvalidInput("--executor ray needs Ray", hint="pip install 'keel[ray]'") from None
        if address is not None:
            check_address(address)
        self.ray = ray
        self.started = False
        if not ray.is_initialized():
            ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
            self.started = address is None  # a local Ray started for this run is stopped after it
        self.steps = steps
        for st in steps.values():
            _by_value(st.fn)
        self.remote = ray.remote(call_function)
        self.threads: list[threading.Thread] = []

    def submit(self, node: str, kwargs: dict[str, Any], done: Callback) -> None:
        res = self.steps[node].resources
        options: dict[str, Any] = {"num_cpus": res.cpu, "num_gpus": res.gpu, "max_retries": 0}
        if res.memory:
            options["memory"] = res.memory
        ref = self.remote.options(**options).remote(self.steps[node].fn, kwargs)

        def wait() -> None:
            try:
                outcome: Outcome = self.ray.get(ref)
            except Exception as exc:  # the task died (worker lost, resources never available, ...)
                outcome = ("error", (f"{type(exc).__name__}: {exc}", ""))
            done(node, outcome)

        thread = threading.Thread(target=wait, name=f"keel-ray-{node}", daemon=True)
        self.threads.append(thread)
        thread.start()

    def close(self) -> None:
        for thread in self.threads:
            thread.join()
        if self.started:
            self.ray.shutdown()
