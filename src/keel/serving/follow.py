"""What a server serves now, and the follower that swaps versions when the deployment's alias moves.

:class:`Live` holds the loaded versions; a request reads each attribute once,
so a swap (one attribute assignment) is atomic for it: a request is answered
wholly by the old version or wholly by the new one. The follower polls the
registry every ``poll_s`` seconds on a background thread; a version that
changed is loaded and checked there (:func:`load_version` makes it answer
its input example), and only then switched to. A version that fails to load
or answer is not switched to: the old one keeps serving, the failure is
logged (and counted in ``/metrics``), and that version is not retried until
the alias moves again.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from keel.context import Context
from keel.core.errors import KeelError
from keel.registry.deployment_schemas import Deployment
from keel.registry.deployments import locate
from keel.registry.models import ModelVersionRow
from keel.serving.loader import Served, load_version
from keel.serving.metrics import Metrics

log = logging.getLogger("keel.serving")
ROLES = ("target", "canary", "shadow")


@dataclass
class Live:
    """The deployment as last read, and the version loaded for each of its roles (None: nothing)."""

    deployment: Deployment
    target: Served | None = None
    canary: Served | None = None
    shadow: Served | None = None
    problem: str = ""
    failed: set[str] = field(default_factory=set)

    def served(self) -> list[Served]:
        return [s for s in (self.target, self.canary, self.shadow) if s is not None]


def refresh(ctx: Context, live: Live, metrics: Metrics, *, first: bool = False) -> None:
    """Read the deployment, load any version that changed, and switch to each one that answered."""
    deployment, rows = locate(ctx, live.deployment.name)
    live.deployment = deployment
    for role in ROLES:
        _refresh_role(ctx, live, metrics, role, rows[role], first=first)
    if live.target is None and not live.problem:
        live.problem = (
            f"deployment {deployment.name!r} serves nothing: "
            f"{deployment.model}@{deployment.target} holds no version"
        )
    elif live.target is not None and rows["target"] is not None:
        live.problem = ""


def _refresh_role(
    ctx: Context, live: Live, metrics: Metrics, role: str, row: ModelVersionRow | None, *, first: bool
) -> None:
    current: Served | None = getattr(live, role)
    if row is None:
        if role != "target":  # a canary or shadow removed or gone: stop routing to it
            setattr(live, role, None)
            metrics.versions.pop(role, None)
        return
    if current is not None and current.version_id == row.id:
        return
    if row.id in live.failed:
        return
    try:
        served = load_version(ctx, row, allow_unsafe_pickle=live.deployment.allow_unsafe_pickle)
    except KeelError as exc:
        live.failed.add(row.id)
        metrics.swap_failures += 0 if first else 1
        message = f"version {row.number} of {live.deployment.model} was not loaded for {role}: {exc.message}"
        log.error("%s; %s", message, "still serving the previous version" if current else "serving none")
        if role == "target" and current is None:
            live.problem = message
        return
    setattr(live, role, served)
    metrics.versions[role] = served.version
    if not first:
        metrics.swaps += 1
        log.warning("deployment %s now serves version %d as %s", live.deployment.name, served.version, role)


class Follower(threading.Thread):
    """The daemon thread that calls :func:`refresh` every ``poll_s`` seconds until stopped."""

    def __init__(self, ctx: Context, live: Live, metrics: Metrics, poll_s: float) -> None:
        super().__init__(name="keel-serving-follower", daemon=True)
        self.ctx, self.live, self.metrics, self.poll_s = ctx, live, metrics, poll_s
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.poll_s):
            try:
                refresh(self.ctx, self.live, self.metrics)
            except Exception:  # the registry unreachable for a moment: keep serving, try again
                log.exception("could not read deployment %s; still serving", self.live.deployment.name)

    def stop(self) -> None:
        self.stopped.set()
