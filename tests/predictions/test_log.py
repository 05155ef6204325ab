"""The prediction log: segments written off the request path, read back by window, labels joined by id."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from keel.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from keel.predictions.query import window
from keel.predictions.schemas import Label
from keel.predictions.segment import Logged
from keel.predictions.writer import PredictionLog
from keel.testing.auth import AuthWorld

COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def _entry(request_id: str, rows: int, version: int = 1, at: float | None = None) -> Logged:
    columns = {c: np.arange(rows, dtype=np.float64) + i for i, c in enumerate(COLUMNS)}
    return Logged(
        request_id=request_id,
        at=time.time() if at is None else at,
        model_version=version,
        latency_ms=1.5,
        columns=columns,
        tensor=None,
        outputs=np.arange(rows) % 3,
    )


def _logged(world: AuthWorld, *entries: Logged, **kw: Any) -> PredictionLog:
    log = PredictionLog(world.ctx, "iris-prod", **kw)
    for entry in entries:
        log.record(entry)
    assert log.flush() == sum(e.rows for e in entries)
    return log


def test_rows_are_logged_with_ids_and_read_back_as_one_table(world: AuthWorld) -> None:
    log = _logged(world, _entry("a", 1), _entry("b", 3, version=2))
    assert (log.written, log.segments, log.dropped) == (4, 1, 0)
    table = window(world.ctx, "iris-prod")
    assert table.column("request_id").to_pylist() == ["a", "b:0", "b:1", "b:2"]
    assert table.column("model_version").to_pylist() == [1, 2, 2, 2]
    assert table.column("output").to_pylist() == [0, 0, 1, 2]
    assert table.column("input.petal_length").to_pylist() == [2.0, 2.0, 3.0, 4.0]
    assert table.column("labeled").to_pylist() == [False] * 4
    assert window(world.ctx, "no-such").num_rows == 0


def test_a_window_cuts_by_time_across_segments(world: AuthWorld) -> None:
    now = time.time()
    _logged(world, _entry("old", 1, at=now - 3600))
    _logged(world, _entry("new", 1, at=now))
    cut = datetime.now(UTC) - timedelta(minutes=5)
    assert window(world.ctx, "iris-prod", since=cut).column("request_id").to_pylist() == ["new"]
    assert window(world.ctx, "iris-prod", until=cut).column("request_id").to_pylist() == ["old"]
    assert window(world.ctx, "iris-prod").num_rows == 2


def test_sensitive_columns_are_logged_as_digests(world: AuthWorld) -> None:
    _logged(world, _entry("a", 2), sensitive=["sepal_width"])
    values = window(world.ctx, "iris-prod").column("input.sepal_width").to_pylist()
    assert all(isinstance(v, str) and len(v) == 32 for v in values) and values[0] != values[1]


def test_a_full_buffer_drops_and_counts_rather_than_grow(world: AuthWorld) -> None:
    log = PredictionLog(world.ctx, "iris-prod", max_pending=3)
    log.record(_entry("a", 2))
    log.record(_entry("b", 2))  # would make 4 > 3
    assert (log.pending_rows, log.dropped) == (2, 2)


def test_close_flushes_what_the_thread_has_not(world: AuthWorld) -> None:
    log = PredictionLog(world.ctx, "iris-prod", flush_s=3600)
    log.start()
    log.record(_entry("a", 1))
    log.close()
    assert window(world.ctx, "iris-prod").column("request_id").to_pylist() == ["a"]


def test_labels_join_by_request_id(world: AuthWorld, admin: Any) -> None:
    _logged(world, _entry("a", 1), _entry("b", 2))
    done = admin.predictions.label(
        project="churn",
        deployment="iris-prod",
        labels=[{"request_id": "a", "value": 0}, {"request_id": "b:1", "value": 2}],
    )
    assert done.labels == 2
    table = window(world.ctx, "iris-prod")
    assert table.column("label").to_pylist() == [0, None, 2]
    assert window(world.ctx, "iris-prod", labeled_only=True).column("request_id").to_pylist() == ["a", "b:1"]
    rows = admin.predictions.ls(project="churn", deployment="iris-prod", labeled_only=True)
    assert [(r.request_id, r.label, r.output, r.inputs["sepal_length"]) for r in rows] == [
        ("a", 0, 0, 0.0),
        ("b:1", 2, 1, 1.0),
    ]
    assert [r.request_id for r in admin.predictions.ls(project="churn", deployment="iris-prod", limit=1)] == [
        "b:1"
    ]


@pytest.mark.parametrize(
    ("labels", "error", "needle"),
    [
        ([], InvalidInput, "no labels"),
        ([{"request_id": "zz", "value": 1}], NotFound, "'zz'"),
        ([{"request_id": "a", "value": 1}, {"request_id": "a", "value": 2}], InvalidInput, "more than once"),
        ([{"request_id": "b", "value": 1}], NotFound, "ID:ROW"),  # a 2-row request is labeled per row
        ([{"request_id": "a", "value": 1}, {"request_id": "done", "value": 1}], Conflict, "'done'"),
    ],
)
def test_bad_labels_are_refused_and_record_nothing(
    world: AuthWorld, admin: Any, labels: list[dict[str, Any]], error: type[Exception], needle: str
) -> None:
    _logged(world, _entry("a", 1), _entry("b", 2), _entry("done", 1))
    admin.predictions.label(
        project="churn", deployment="iris-prod", labels=[{"request_id": "done", "value": 0}]
    )
    with pytest.raises(error) as raised:
        admin.predictions.label(project="churn", deployment="iris-prod", labels=labels)
    assert needle in str(raised.value)
    assert window(world.ctx, "iris-prod", labeled_only=True).column("request_id").to_pylist() == ["done"]


def test_labels_need_an_editor_of_the_deployments_project(world: AuthWorld, admin: Any) -> None:
    _logged(world, _entry("a", 1))
    label = [Label(request_id="a", value=1)]
    viewer = world.client(world.user("vi", role="viewer", project="churn"))
    with pytest.raises(PermissionDenied):
        viewer.predictions.label(project="churn", deployment="iris-prod", labels=label)
    assert [r.request_id for r in viewer.predictions.ls(project="churn", deployment="iris-prod")] == ["a"]
    with pytest.raises(NotFound, match="no deployment named 'iris-prod' in project 'other'"):
        admin.predictions.label(project="other", deployment="iris-prod", labels=label)
    now = datetime.now(UTC)
    with pytest.raises(InvalidInput, match="since"):
        admin.predictions.ls(project="churn", deployment="iris-prod", since=now, until=now)
    assert window(world.ctx, "iris-prod", labeled_only=True).num_rows == 0


def test_record_scoring_refuses_other_kinds_and_unknown_versions(admin: Any) -> None:
    with pytest.raises(InvalidInput, match="not a dataset_version"):
        admin.predictions.record_scoring(project="churn", output="run:abc", model_version="model_version:x")
    with pytest.raises(InvalidInput, match="not a model_version"):
        admin.predictions.record_scoring(project="churn", output="dataset_version:x", model_version="run:x")
    with pytest.raises(NotFound, match="no dataset version 'x'"):
        admin.predictions.record_scoring(
            project="churn", output="dataset_version:x", model_version="model_version:y"
        )


def test_retention_drops_old_segments_with_their_rows_and_labels(world: AuthWorld, admin: Any) -> None:
    now = time.time()
    _logged(world, _entry("old", 1, at=now - 10 * 86400))
    _logged(world, _entry("new", 1, at=now))
    admin.predictions.label(
        project="churn", deployment="iris-prod", labels=[Label(request_id="old", value=1)]
    )
    with pytest.raises(InvalidInput, match="no log_retention_days"):
        admin.predictions.prune(project="churn", deployment="iris-prod")
    editor = world.client(world.user("ed", role="editor", project="churn"))
    with pytest.raises(PermissionDenied):
        editor.predictions.prune(project="churn", deployment="iris-prod", older_than_days=5)
    assert window(world.ctx, "iris-prod").num_rows == 2  # nothing dropped by the refusals
    admin.deployments.edit(project="churn", name="iris-prod", settings={"log_retention_days": 5})
    done = admin.predictions.prune(project="churn", deployment="iris-prod")
    assert (done.segments, done.rows, done.labels) == (1, 1, 1)
    assert window(world.ctx, "iris-prod").column("request_id").to_pylist() == ["new"]
    assert admin.predictions.prune(project="churn", deployment="iris-prod", older_than_days=5).segments == 0
