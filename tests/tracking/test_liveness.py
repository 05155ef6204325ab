"""No run left RUNNING forever: a silent run is marked KILLED, `keel run end` exists, a failed start leaves nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

import keel
import keel.sdk
from keel.client import Client, connect
from keel.core.errors import Conflict, InvalidInput, NotFound, WorkspaceNotFound
from keel.core.settings import load_settings
from keel.core.timeutil import utcnow
from keel.tracking.models import RunRow


def _silence(client: Client, run_id: str, seconds: float) -> None:
    """Make the run's last heartbeat ``seconds`` old (as if its process died then)."""
    then = utcnow() - timedelta(seconds=seconds)
    with client.backend.ctx.store.write() as session:  # type: ignore[attr-defined]
        session.execute(
            update(RunRow)
            .where(RunRow.id == run_id)
            .values(heartbeat_at=then, start_time=then - timedelta(seconds=60))
        )


def test_a_run_whose_heartbeat_stopped_is_marked_killed(make_keel: Callable[..., Client]) -> None:
    client = make_keel(run_heartbeat_timeout_s=300, hourly_price=3.6)
    client.projects.create(name="churn")
    dead = client.runs.create(project="churn", hourly_price=3.6)
    alive = client.runs.create(project="churn")
    _silence(client, dead.id, 301)
    _silence(client, alive.id, 299)
    statuses = {r.id: r.status for r in client.runs.search(project="churn").items}
    assert statuses == {dead.id: "KILLED", alive.id: "RUNNING"}
    killed = client.runs.get(run_id=dead.id)
    assert killed.duration == pytest.approx(60, abs=1)  # start to the last heartbeat, not to now
    assert killed.cost == pytest.approx(killed.duration * 0.001)
    assert killed.tags["keel.end_reason"].startswith("no heartbeat since")
    # the dead process's spooled points were logged before the end: still accepted
    assert killed.end_time is not None
    logged = int(killed.end_time.timestamp() * 1000) - 30_000
    client.runs.log_batch(run_id=dead.id, series={"loss": ([7], [logged], [0.25])})
    assert client.runs.get(run_id=dead.id).metrics == {"loss": 0.25}


def test_a_batch_is_a_heartbeat_and_zero_turns_the_check_off(make_keel: Callable[..., Client]) -> None:
    client = make_keel(run_heartbeat_timeout_s=300)
    client.projects.create(name="churn")
    run = client.runs.create(project="churn")
    _silence(client, run.id, 400)
    client.runs.log_batch(run_id=run.id)  # an empty batch: the SDK's heartbeat
    assert client.runs.get(run_id=run.id).status == "RUNNING"
    off = make_keel(run_heartbeat_timeout_s=0)
    off.projects.create(name="churn")
    forever = off.runs.create(project="churn")
    _silence(off, forever.id, 10**7)
    assert off.runs.get(run_id=forever.id).status == "RUNNING"
    assert off.runs.reap(project="churn") == 0


def test_keel_run_end_ends_a_stuck_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert keel_cli("init").code == 0
    assert keel_cli("project", "create", "churn").code == 0
    client = keel.init(project="churn", home=tmp_path / ".keel")
    run = client.runs.create(project="churn")
    result = keel_cli("run", "end", run.id, "--status", "failed", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["status"] == "FAILED"
    again = keel_cli("run", "end", run.id)
    assert again.code == 2 and "FAILED already" in again.err
    bad = keel_cli("run", "end", run.id, "--status", "done")
    assert bad.code == 2 and client.runs.get(run_id=run.id).status == "FAILED"
    # points spooled by its process before it was ended are still taken
    spool = tmp_path / ".keel" / "spool"
    spool.mkdir()
    stamp = int(client.runs.get(run_id=run.id).end_time.timestamp() * 1000) - 1  # type: ignore[union-attr]
    record = {"run_id": run.id, "client_id": "w", "seq": 1, "series": {"auc": [[0], [stamp], [0.9]]}}
    (spool / "w.jsonl").write_text(json.dumps(record) + "\n")
    synced = keel_cli("run", "sync", "--json")
    assert synced.code == 0, synced.err
    assert json.loads(synced.out) == {"sent": 1, "waiting_batches": 0, "refused": 0}
    # one logged after the end is refused for good: kept, and the command says so (exit 1)
    late = {**record, "seq": 2, "series": {"auc": [[1], [stamp + 60_000], [0.95]]}}
    (spool / "w.jsonl").write_text(json.dumps(late) + "\n")
    refused = keel_cli("run", "sync")
    assert refused.code == 1 and "refused 1 point(s) for good" in refused.err
    assert (spool / "refused" / "w.jsonl").exists() and not (spool / "w.jsonl").exists()


def test_a_start_that_fails_creates_no_run(tmp_path: Path, make_keel: Callable[..., Client]) -> None:
    workspace = make_keel()
    workspace.projects.create(name="churn")
    db_url = workspace.settings.db_url
    # the same database, but no artifact store (the README's PostgreSQL case before it names one)
    bare = connect(settings=load_settings({"db_url": db_url}, env={}, cwd=tmp_path))
    keel.sdk._default, keel.sdk._project = bare, "churn"
    with pytest.raises(WorkspaceNotFound, match="no artifact store"):
        keel.start_run(system_metrics=False)
    assert workspace.runs.search(project="churn").items == []
    with pytest.raises(NotFound, match=r"no artifact a{64} in project 'churn'"):
        workspace.runs.create(project="churn", artifacts={"environment/x.txt": "a" * 64})
    with pytest.raises(InvalidInput, match="'zz'"):
        workspace.runs.create(project="churn", artifacts={"environment/x.txt": "zz"})
    with pytest.raises(InvalidInput, match="artifact path"):
        workspace.runs.create(project="churn", artifacts={"../x.txt": "a" * 64})
    assert workspace.runs.search(project="churn").items == []


def test_a_run_killed_for_silence_whose_process_wakes_up_runs_again(make_keel: Callable[..., Client]) -> None:
    client = make_keel(run_heartbeat_timeout_s=300)
    client.projects.create(name="churn")
    slept = client.runs.create(project="churn")
    dead = client.runs.create(project="churn")
    for run in (slept, dead):
        _silence(client, run.id, 400)
    assert {r.status for r in client.runs.search(project="churn").items} == {"KILLED"}
    end = client.runs.get(run_id=dead.id).end_time
    assert end is not None
    before = int(end.timestamp() * 1000) - 1000
    client.runs.log_batch(run_id=dead.id, series={"loss": ([0], [before], [1.0])})  # a dead process's spool
    assert client.runs.get(run_id=dead.id).status == "KILLED"
    client.runs.log_batch(run_id=slept.id)  # the heartbeat of a process that was only asleep
    woken = client.runs.get(run_id=slept.id)
    assert (woken.status, woken.end_time, woken.duration) == ("RUNNING", None, None)
    assert "keel.end_reason" not in woken.tags
    # a run a person ended is never revived by a batch
    ended = client.runs.create(project="churn")
    client.runs.end(run_id=ended.id, status="KILLED")
    with pytest.raises(Conflict):
        client.runs.log_batch(run_id=ended.id, params={"late": 1})
    client.runs.log_batch(run_id=ended.id)
    assert client.runs.get(run_id=ended.id).status == "KILLED"
