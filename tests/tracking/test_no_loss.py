"""Nothing acknowledged and then dropped: a run is not ended while its points wait, a spool is
deleted only once its points are stored, and an ended run still takes points logged while it ran."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from keel.client import Client
from keel.core.errors import Conflict, InvalidInput, ServerUnreachable
from keel.tracking.active import ActiveRun
from keel.tracking.logger import RunLogger
from keel.tracking.spool import resend_file, sync_spool


class Flaky:
    """The runs service behind a link that can go down (every call then fails, retryably)."""

    def __init__(self, runs: Any) -> None:
        self._runs = runs
        self.down = False

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._runs, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                raise ServerUnreachable("the link is down")
            return target(*args, **kwargs)

        return call


@pytest.fixture
def client(make_keel: Any) -> Client:
    c: Client = make_keel()
    c.projects.create(name="churn")
    return c


def _active(client: Client, tmp_path: Path) -> tuple[ActiveRun, Flaky]:
    runs = Flaky(client.runs)
    info = client.runs.create(project="churn")
    logger = RunLogger(info.id, runs.log_batch, spool_dir=tmp_path / "spool", batch_size=100)
    return ActiveRun(runs, info, logger=logger), runs


def test_a_run_is_not_finished_while_its_points_wait_in_the_spool(client: Client, tmp_path: Path) -> None:
    run, link = _active(client, tmp_path)
    link.down = True
    for step in range(250):
        run.log_metric("loss", 1 / (step + 1), step=step)
    run.end()
    assert client.runs.get(run_id=run.id).status == "RUNNING"  # not FINISHED with 0 points stored
    assert client.runs.metric_history(run_id=run.id, key="loss") == []
    # later, the server is back: `keel run sync` sends the points, then the end, in order
    result = sync_spool(tmp_path / "spool", client.runs.log_batch, client.runs.end)
    assert (result.sent, result.left, result.refused) == (250, 0, 0)
    stored = client.runs.get(run_id=run.id)
    assert stored.status == "FINISHED" and stored.metrics["loss"] == pytest.approx(1 / 250)
    assert len(client.runs.metric_history(run_id=run.id, key="loss")) == 250
    assert list((tmp_path / "spool").glob("*.jsonl")) == []


def test_the_spool_stays_while_the_server_is_still_away(client: Client, tmp_path: Path) -> None:
    run, link = _active(client, tmp_path)
    link.down = True
    run.log_metric("loss", 0.5, step=0)
    run.end()
    [path] = (tmp_path / "spool").glob("*.jsonl")
    before = path.read_text()
    result = sync_spool(tmp_path / "spool", link.log_batch, link.end)  # still down
    assert (result.sent, result.left) == (0, 1) and path.read_text() == before


def test_an_ended_run_takes_spooled_points_logged_before_its_end_only(client: Client, tmp_path: Path) -> None:
    info = client.runs.create(project="churn")
    ended = client.runs.end(run_id=info.id)
    assert ended.end_time is not None
    end_ms = int(ended.end_time.timestamp() * 1000)
    spool = tmp_path / "spool"
    spool.mkdir()
    before = {
        "run_id": info.id,
        "client_id": "c1",
        "seq": 1,
        "series": {"loss": [[0, 1], [end_ms - 10, end_ms], [1.0, 0.5]]},
    }
    after = {
        "run_id": info.id,
        "client_id": "c1",
        "seq": 2,
        "series": {"loss": [[2], [end_ms + 10_000], [0.1]]},
    }
    (spool / "c1.jsonl").write_text(json.dumps(before) + "\n" + json.dumps(after) + "\n")
    result = sync_spool(spool, client.runs.log_batch, client.runs.end)
    assert (result.sent, result.refused, result.left) == (2, 1, 0)
    assert [p.step for p in client.runs.metric_history(run_id=info.id, key="loss")] == [0, 1]
    # the refused batch is kept, with the reason, never silently deleted
    [kept] = (spool / "refused").glob("*.jsonl")
    record = json.loads(kept.read_text())
    assert record["seq"] == 2 and "after its end" in record["error"]
    assert not (spool / "c1.jsonl").exists()


def test_a_spool_written_by_an_older_keel_is_still_replayed(client: Client, tmp_path: Path) -> None:
    info = client.runs.create(project="churn")
    path = tmp_path / "old.jsonl"
    record = {"run_id": info.id, "client_id": "c0", "seq": 1, "metrics": [["auc", 0.9, 3, 1_700_000_000_000]]}
    path.write_text(json.dumps(record) + "\n")
    assert resend_file(path, client.runs.log_batch).sent == 1
    assert client.runs.get(run_id=info.id).metrics == {"auc": 0.9}


def test_refused_points_end_the_run_failed_and_are_kept(client: Client, tmp_path: Path) -> None:
    run, _ = _active(client, tmp_path)
    client.runs.end(run_id=run.id)  # someone else ended it meanwhile
    run.log_metric("loss", 0.5, step=0)  # logged after that end: the server refuses it for good
    with pytest.raises(Conflict, match="after its end"):
        run.end()
    assert run.logger.refused_points == 1
    [kept] = (tmp_path / "spool" / "refused").glob("*.jsonl")
    assert json.loads(kept.read_text())["series"]["loss"][2] == [0.5]


def test_a_spooled_end_after_a_timeout_kill_records_the_real_outcome(client: Client, tmp_path: Path) -> None:
    from keel.tracking.liveness import mark_killed

    run, link = _active(client, tmp_path)
    link.down = True
    run.log_metric("loss", 0.5, step=0)
    run.end()  # FINISHED, spooled
    with client.backend.ctx.store.write() as session:  # type: ignore[attr-defined]
        assert mark_killed(session, [run.id], timeout_s=0.0) == 1
    assert client.runs.get(run_id=run.id).status == "KILLED"
    sync_spool(tmp_path / "spool", client.runs.log_batch, client.runs.end)
    stored = client.runs.get(run_id=run.id)
    assert stored.status == "FINISHED" and stored.metrics == {"loss": 0.5}
    assert "keel.end_reason" not in stored.tags
    # a run a person ended stays ended
    with pytest.raises(Conflict, match="FINISHED already"):
        client.runs.end(run_id=run.id, status="KILLED")


def test_bad_ends_change_nothing(client: Client) -> None:
    info = client.runs.create(project="churn")
    for energy in (-1.0, 1e308, float("inf"), float("nan")):
        with pytest.raises(InvalidInput, match="energy_kwh"):
            client.runs.end(run_id=info.id, energy_kwh=energy)
    assert client.runs.get(run_id=info.id).status == "RUNNING"


def test_late_points_update_the_kpi_report(make_keel: Any) -> None:
    client = make_keel()
    client.projects.create(name="kpi", kpis=["auc >= 0.8"])
    info = client.runs.create(project="kpi")
    client.runs.log_batch(run_id=info.id, metrics=[("auc", 0.5, 0, 1_700_000_000_000)])
    ended = client.runs.end(run_id=info.id)
    assert ended.kpi_passed is False and ended.end_time is not None
    logged = int(ended.end_time.timestamp() * 1000) - 1
    client.runs.log_batch(run_id=info.id, metrics=[("auc", 0.9, 1, logged)])  # spooled, delivered late
    assert client.runs.get(run_id=info.id).kpi_passed is True


def test_a_writer_flushing_its_own_spool_leaves_the_spooled_end_to_sync(
    client: Client, tmp_path: Path
) -> None:
    run, link = _active(client, tmp_path)
    link.down = True
    run.log_metric("loss", 0.5, step=0)
    run.end()
    link.down = False
    run.logger.flush()  # its own re-send stores the points but cannot end the run
    assert client.runs.metric_history(run_id=run.id, key="loss")[0].value == 0.5
    assert client.runs.get(run_id=run.id).status == "RUNNING"
    assert not (tmp_path / "spool" / "refused").exists()
    sync_spool(tmp_path / "spool", client.runs.log_batch, client.runs.end)
    assert client.runs.get(run_id=run.id).status == "FINISHED"
    assert list((tmp_path / "spool").glob("*.jsonl")) == []
