"""Remote mode: the SDK against a real server; spooling while it is unreachable, stored once when it returns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keel
from keel.client import connect
from keel.core.settings import load_settings
from keel.testing.fixtures import free_port
from keel.tracking.logger import RunLogger
from keel.tracking.spool import sync_spool


def test_sdk_logs_through_the_server(keel_server: Any, unique: Any) -> None:
    project = unique("remote")
    client = keel.init(
        project=project, create=True, url=keel_server.url, token=getattr(keel_server, "token", None)
    )
    assert client.is_remote
    with keel.start_run(params={"lr": 0.1}, system_metrics=False, capture_env=False) as run:
        for step in range(500):
            run.log_metric("loss", 1 / (step + 1), step=step)
        run.log_text("remote", "notes.txt")
    stored = keel.get_run(run.id)
    assert stored.status == "FINISHED" and len(stored.metric_history("loss")) == 500
    assert [a.path for a in stored.artifacts] == ["notes.txt"]
    frame = keel.search_runs("params.lr = 0.1")
    assert list(frame["run_id"]) == [run.id]


def test_unreachable_server_spools_then_sync_stores_once(
    keel_server: Any, unique: Any, tmp_path: Path
) -> None:
    token = getattr(keel_server, "token", None)
    live = connect(
        settings=load_settings({"server_url": keel_server.url, "token": token}, env={}, cwd=tmp_path)
    )
    project = unique("spool")
    live.projects.create(name=project)
    run = live.runs.create(project=project)
    dead_url = f"http://127.0.0.1:{free_port()}"
    dead = connect(settings=load_settings({"server_url": dead_url, "http_retries": 0}, env={}, cwd=tmp_path))
    logger = RunLogger(run.id, dead.runs.log_batch, spool_dir=tmp_path / "spool", batch_size=50)
    for step in range(120):
        logger.log("loss", float(step), step, 1000 + step)
    logger.close()
    assert logger.spooled == 3 and live.runs.metric_history(run_id=run.id, key="loss") == []
    assert sync_spool(tmp_path / "spool", live.runs.log_batch).sent == 120
    # a batch the server stored but whose answer was lost comes again: stored once
    spool = tmp_path / "again.jsonl"
    record = {"run_id": run.id, "client_id": logger.client_id, "seq": 1, "metrics": [["loss", 0.0, 0, 1000]]}
    spool.write_text(json.dumps(record) + "\n")
    assert sync_spool(tmp_path, live.runs.log_batch).sent == 1  # a spool file of an older version
    steps = [p.step for p in live.runs.metric_history(run_id=run.id, key="loss")]
    assert steps == list(range(120))
