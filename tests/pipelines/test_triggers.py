"""Triggers: a retraining target fired by drift, data, a schedule or by hand; dedup, cooldown, one claimer."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from keel.core.errors import InvalidInput, NotFound
from keel.pipelines.cron import parse_schedule
from keel.pipelines.service import PipelineService
from keel.pipelines.worker import TriggerWorker

TARGET = "pipelines.steps_demo:demo"


def _worker(client: Any) -> TriggerWorker:
    from keel.client import Client
    from keel.client.backends import InProcessBackend

    ctx = client.backend.ctx
    return TriggerWorker(ctx, lambda caller: Client(InProcessBackend(ctx, caller), client.settings))


def _add_data(client: Any, tmp_path: Path, values: list[float]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from keel.data import add

    path = tmp_path / f"rows{len(values)}.parquet"
    pq.write_table(pa.table({"x": values}), path)
    add(path, "rows", project="pipes", client=client)


def test_a_manual_firing_runs_the_pipeline_as_the_trigger(client: Any) -> None:
    trigger = client.pipelines.add_trigger(project="pipes", target=TARGET, event="manual", params={"n": 5})
    assert client.pipelines.triggers(project="pipes") == [trigger]
    [fired] = client.pipelines.trigger(project="pipes", trigger_id=trigger.id, reason="by hand")
    assert fired.fired and fired.firing is not None and fired.firing.status == "PENDING"
    worker = _worker(client)
    done = worker.run_once()
    assert done is not None and done.status == "DONE" and done.pipeline_run_id is not None
    run = client.pipelines.get(project="pipes", pipeline_run_id=done.pipeline_run_id)
    assert run.status == "FINISHED" and run.params["n"] == 5 and run.target == TARGET
    assert worker.run_once() is None  # nothing left queued
    assert run.run_id is not None and client.runs.get(run.run_id).user == f"trigger:{trigger.id}"  # acted as
    added = client.audit.ls(project="pipes", action="pipeline.trigger.add").items
    assert [e.target for e in added] == [f"trigger:{trigger.id}"]


def test_events_are_deduplicated_and_cooled_down(client: Any, tmp_path: Path) -> None:
    _add_data(client, tmp_path, [1.0, 2.0])
    trigger = client.pipelines.add_trigger(project="pipes", target=TARGET, event="data:rows", cooldown_s=600)
    [first] = client.pipelines.trigger(project="pipes", event="data:rows", dedup_key="v2")
    [same] = client.pipelines.trigger(project="pipes", event="data:rows", dedup_key="v2")
    [later] = client.pipelines.trigger(project="pipes", event="data:rows", dedup_key="v3")
    assert first.fired and not same.fired and "already fired for 'v2'" in (same.why_not or "")
    assert not later.fired and "cooling down until" in (later.why_not or "")
    assert client.pipelines.trigger(project="pipes", event="drift:nothing-watches-this") == []
    assert [f.dedup_key for f in client.pipelines.firings(project="pipes", trigger_id=trigger.id)] == ["v2"]


def test_a_new_data_version_and_a_due_schedule_queue_firings(client: Any, tmp_path: Path) -> None:
    _add_data(client, tmp_path, [1.0, 2.0])
    data = client.pipelines.add_trigger(project="pipes", target=TARGET, event="data:rows", cooldown_s=0)
    hourly = client.pipelines.add_trigger(
        project="pipes", target=TARGET, event="schedule:0 * * * *", cooldown_s=0
    )
    service = PipelineService(client.backend.ctx)
    assert [r for r in service.poll_events() if r.fired] == []  # adding a trigger fires nothing by itself
    _add_data(client, tmp_path, [1.0, 2.0, 3.0])
    in_two_hours = datetime.now(UTC).replace(minute=30) + __import__("datetime").timedelta(hours=2)
    fired = {r.trigger_id: r for r in service.poll_events(in_two_hours) if r.fired}
    assert set(fired) == {data.id, hourly.id}
    assert fired[data.id].firing.reason.startswith("new version pipes/rows@v2")  # type: ignore[union-attr]
    assert fired[hourly.id].firing.dedup_key.endswith(":00")  # type: ignore[union-attr]
    assert [r for r in service.poll_events(in_two_hours) if r.fired] == []  # already seen


def test_only_one_worker_claims_a_firing(client: Any) -> None:
    trigger = client.pipelines.add_trigger(project="pipes", target=TARGET, event="manual")
    client.pipelines.trigger(project="pipes", trigger_id=trigger.id)
    service = PipelineService(client.backend.ctx)
    assert service.claim("replica-a") is not None
    assert service.claim("replica-b") is None
    service.finish_firing(client.pipelines.firings(project="pipes")[0].id, "replica-b", "DONE", None, None)
    assert client.pipelines.firings(project="pipes")[0].status == "CLAIMED"  # only the claimer ends it


def test_a_failing_pipeline_is_a_failed_firing_naming_the_step(client: Any) -> None:
    trigger = client.pipelines.add_trigger(
        project="pipes", target="pipelines.steps_demo:failing", event="manual"
    )
    client.pipelines.trigger(project="pipes", trigger_id=trigger.id)
    done = _worker(client).run_once()
    assert done is not None and done.status == "FAILED" and "step boom failed" in (done.error or "")
    assert done.pipeline_run_id is not None


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"target": "no-colon", "event": "manual"}, InvalidInput, "write /path/to/file.py:NAME"),
        ({"target": TARGET, "event": "sometimes"}, InvalidInput, "write data:DATASET"),
        ({"target": TARGET, "event": "data:no-such-data"}, NotFound, "event 'data:no-such-data'"),
        (
            {"target": TARGET, "event": "drift:no-such-deployment"},
            NotFound,
            "event 'drift:no-such-deployment'",
        ),
        (
            {"target": TARGET, "event": "schedule:61 * * * *"},
            InvalidInput,
            "minute field '61' is outside 0-59",
        ),
        ({"target": TARGET, "event": "manual", "cooldown_s": -1}, InvalidInput, "cooldown_s must be between"),
    ],
)
def test_bad_triggers_are_refused_and_nothing_is_recorded(
    client: Any, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        client.pipelines.add_trigger(project="pipes", **kwargs)
    assert client.pipelines.triggers(project="pipes") == []


def test_bad_firings_are_refused(client: Any) -> None:
    with pytest.raises(InvalidInput, match="give an event"):
        client.pipelines.trigger(project="pipes")
    with pytest.raises(NotFound, match="no trigger 'nope'"):
        client.pipelines.trigger(project="pipes", trigger_id="nope")
    trigger = client.pipelines.add_trigger(project="pipes", target=TARGET, event="manual")
    assert client.pipelines.remove_trigger(project="pipes", trigger_id=trigger.id).id == trigger.id
    assert client.pipelines.triggers(project="pipes") == []


def test_cron_schedules() -> None:
    nightly = parse_schedule("0 3 * * *")
    assert nightly.matches(datetime(2026, 11, 29, 3, 0, tzinfo=UTC))
    assert not nightly.matches(datetime(2026, 11, 29, 3, 1, tzinfo=UTC))
    weekdays = parse_schedule("*/15 9-17 * * 1-5")
    assert weekdays.matches(datetime(2026, 11, 30, 9, 45, tzinfo=UTC))  # a Monday
    assert not weekdays.matches(datetime(2026, 11, 29, 9, 45, tzinfo=UTC))  # a Sunday
    sundays = parse_schedule("0 0 * * 7")
    assert sundays.matches(datetime(2026, 11, 29, 0, 0, tzinfo=UTC))
    either = parse_schedule("0 0 1 * 1")  # the 1st or a Monday, as cron has it
    assert either.matches(datetime(2026, 11, 30, 0, 0, tzinfo=UTC)) and either.matches(
        datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    )
    assert nightly.last_due(
        datetime(2026, 11, 28, 12, 0, tzinfo=UTC), datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
    ) == (datetime(2026, 11, 29, 3, 0, tzinfo=UTC))
    for bad, message in [
        ("* * *", "five fields"),
        ("x * * * *", "not a number"),
        ("0 0 0 * *", "outside 1-31"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            parse_schedule(bad)


def test_claims_and_runs_on_postgresql(make_keel: Any, postgres_url: str, unique: Any) -> None:
    c = make_keel(db_url=postgres_url)
    project = unique("trig")
    c.projects.create(name=project)
    trigger = c.pipelines.add_trigger(project=project, target=TARGET, event="manual", params={"n": 2})
    [fired] = c.pipelines.trigger(project=project, trigger_id=trigger.id)
    [again] = c.pipelines.trigger(project=project, trigger_id=trigger.id, dedup_key=fired.firing.dedup_key)
    assert fired.fired and not again.fired
    service = PipelineService(c.backend.ctx)
    claimed = service.claim("replica-a", lease_s=600)
    assert claimed is not None and claimed[0].id == fired.firing.id
    assert service.claim("replica-b") is None
    service.finish_firing(claimed[0].id, "replica-a", "DONE", None, None)
    assert c.pipelines.firings(project=project)[0].status == "DONE"
