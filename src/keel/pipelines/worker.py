"""The trigger worker: one background thread per ``keel server`` that polls events and runs firings.

Each pass queues what schedules and new data versions call for
(:meth:`TriggerOperations.poll_events`), then claims queued firings one at a
time under a lease and runs each pipeline. Several server replicas on one
PostgreSQL each run a worker; the claim is a conditional UPDATE, so at most
one of them runs each firing, and a firing whose worker died is claimed
again once its lease has run out.

A firing runs as caller ``trigger:<id>`` with the rights of the admin who
added the trigger: ``client_for(caller)`` (given by ``keel server``, which
sits above this package) returns an in-process Keel client acting as that
caller, so every run, registration and promotion the pipeline makes is
authorised and audited under that name.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

from keel.context import Context
from keel.core.errors import KeelError
from keel.core.ids import new_id
from keel.core.operations import Caller
from keel.pipelines.schemas import Firing

log = logging.getLogger("keel.pipelines.worker")

#: Set when this process queues a firing, so its worker starts it now rather than at its next pass.
WAKE = threading.Event()

ClientFor = Callable[[Caller], Any]


class TriggerWorker:
    """Poll events and run queued firings, every ``interval_s`` seconds, on a daemon thread."""

    def __init__(
        self, ctx: Context, client_for: ClientFor, *, interval_s: float = 15.0, lease_s: int = 6 * 3600
    ):
        from keel.pipelines.service import PipelineService

        self.service = PipelineService(ctx)
        self.client_for = client_for
        self.interval_s, self.lease_s = interval_s, lease_s
        self.name = f"{socket.gethostname()}:{os.getpid()}:{new_id()[-6:]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> Firing | None:
        """Claim one queued firing and run its pipeline; the firing as it ended, or None if none was queued."""
        from keel.pipelines.load import load_pipeline
        from keel.pipelines.run import run_pipeline

        claimed = self.service.claim(self.name, self.lease_s)
        if claimed is None:
            return None
        firing, trigger = claimed
        user_id, is_admin = self.service.acting_as(trigger.id)
        caller = Caller(name=f"trigger:{trigger.id}", user_id=user_id, is_admin=is_admin)
        status, run_id, error = "DONE", None, None
        try:
            result = run_pipeline(
                load_pipeline(trigger.target),
                self.client_for(caller),
                project=trigger.project,
                params=trigger.params,
                target=trigger.target,
            )
            run_id = result.id
        except KeelError as exc:
            status, error = "FAILED", exc.message
            if user_id is None and not _not_about_identity(exc):
                error += " (the trigger was added without a signed-in user; re-add it with an API token)"
            run_id = exc.details.get("pipeline_run")  # a failed step: the pipeline run it stopped
        except Exception as exc:  # the user's pipeline file: anything may go wrong; the worker keeps going
            status, error = "FAILED", f"{type(exc).__name__}: {exc}"
            log.exception("trigger %s: firing %s failed", trigger.id, firing.id)
        self.service.finish_firing(firing.id, self.name, status, run_id, error)
        return next(
            (f for f in self.service.firings(trigger.project, trigger_id=trigger.id) if f.id == firing.id),
            firing,
        )

    def tick(self) -> int:
        """One pass: queue due events, then run every queued firing; how many ran."""
        self.service.poll_events()
        ran = 0
        while not self._stop.is_set() and self.run_once() is not None:
            ran += 1
        return ran

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # the database away, say: log, wait, try again
                log.exception("trigger worker pass failed; retrying in %.0f s", self.interval_s)
            WAKE.wait(self.interval_s)
            WAKE.clear()

    def start(self) -> None:
        """Start the background thread (a daemon: it never holds the server's exit)."""
        self._thread = threading.Thread(target=self._loop, name="keel-trigger-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to stop after the firing it is running, and wait up to ``timeout``."""
        self._stop.set()
        WAKE.set()
        if self._thread is not None:
            self._thread.join(timeout)


def _not_about_identity(exc: KeelError) -> bool:
    """Whether ``exc`` has nothing to do with who the caller is (so no hint about signing in is due)."""
    return exc.code not in ("unauthenticated", "permission_denied")
