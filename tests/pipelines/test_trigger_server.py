"""`keel server` runs its trigger worker: a queued firing is claimed and its pipeline run, over the real process."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from keel.client import connect
from keel.core.settings import load_settings
from keel.testing.fixtures import ServerProcess, admin_token, new_workspace

FLOW = """
import keel.pipelines as kp

@kp.step
def make(n: int) -> list[int]:
    return list(range(n))

@kp.pipeline
def flow(n: int = 3):
    return make(n)
"""


@pytest.mark.slow
def test_keel_server_claims_and_runs_a_queued_firing(tmp_path: Path) -> None:
    settings = new_workspace(tmp_path / "ws")
    token = admin_token(settings)
    (tmp_path / "flow.py").write_text(FLOW)
    server = ServerProcess(Path(settings.home), token=token)
    try:
        server.wait_ready()
        remote = connect(
            settings=load_settings({"server_url": server.url, "token": token}, env={}, cwd=tmp_path)
        )
        remote.projects.create(name="p")
        target = f"{tmp_path / 'flow.py'}:flow"
        trigger = remote.pipelines.add_trigger(project="p", target=target, event="manual")
        [queued] = remote.pipelines.trigger(project="p", trigger_id=trigger.id, reason="drift on churn-prod")
        assert queued.fired  # the server's worker is woken at once, not at its next pass
        deadline = time.monotonic() + 60
        firing = remote.pipelines.firings(project="p")[0]
        while firing.status in ("PENDING", "CLAIMED") and time.monotonic() < deadline:
            time.sleep(0.2)
            firing = remote.pipelines.firings(project="p")[0]
        assert firing.status == "DONE", firing.error
        assert firing.claimed_by is not None and firing.pipeline_run_id is not None
        run = remote.pipelines.get(project="p", pipeline_run_id=firing.pipeline_run_id)
        assert run.status == "FINISHED" and run.params == {"n": 3}
    finally:
        server.stop()
