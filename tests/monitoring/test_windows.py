"""Monitors over a deployment's prediction log: windows, prediction and label drift, live KPIs, serving figures."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from keel.core.errors import InvalidInput, NotFound
from keel.predictions.schemas import Label
from keel.predictions.segment import Logged
from keel.predictions.writer import PredictionLog
from keel.testing.auth import AuthWorld

COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, np.ndarray, Any]:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    return X, y, LogisticRegression(max_iter=500).fit(X, y)


@pytest.fixture
def world(tmp_path: Path, iris: Any) -> AuthWorld:
    import pandas as pd

    import keel.data
    import keel.models
    from keel.sdk import register_model

    X, y, model = iris
    frame = pd.DataFrame(X, columns=COLUMNS)
    keel.models.save(model, tmp_path / "pkg", input_example=frame.head(3))
    w = AuthWorld(tmp_path / "ws")
    w.project("iris")
    admin = w.client(w.admin_token)
    version = register_model(tmp_path / "pkg", "iris", project="iris", client=admin)
    admin.models.set_alias(project="iris", name="iris", alias="live", version=version.number)
    admin.deployments.create(project="iris", name="iris-prod", model="iris@live")
    rng = np.random.default_rng(0)
    rows = rng.integers(0, len(y), 3000)
    table = pa.table(
        {**{c: X[rows, i] + rng.normal(0, 0.05, 3000) for i, c in enumerate(COLUMNS)}, "species": y[rows]}
    )
    pq.write_table(table, tmp_path / "train.parquet")
    keel.data.add(
        tmp_path / "train.parquet", "iris-train", project="iris", pointer=False, gitignore=False, client=admin
    )
    return w


def _log(world: AuthWorld, iris: Any, n: int, seed: int, *, at: float, shift: float = 0.0) -> list[str]:
    """Log ``n`` one-row requests like the server would: the model's answer and its latency."""
    X, _, model = iris
    rng = np.random.default_rng(seed)
    rows = X[rng.integers(0, len(X), n)] + rng.normal(0, 0.05, (n, 4))
    rows[:, 2] += shift
    answers = model.predict(rows)
    log = PredictionLog(world.ctx, "iris-prod")
    ids = []
    for i in range(n):
        rid = f"r{seed}-{i}"
        ids.append(rid)
        log.record(
            Logged(
                request_id=rid,
                at=at + i * 0.01,
                model_version=1,
                latency_ms=float(2 + (i % 10)),
                columns={c: rows[i : i + 1, j] for j, c in enumerate(COLUMNS)},
                tensor=None,
                outputs=answers[i : i + 1],
            )
        )
    log.flush()
    return ids


def test_windows_of_the_log_give_drift_prediction_drift_kpis_and_serving_figures(
    world: AuthWorld, iris: Any
) -> None:
    admin = world.client(world.admin_token)
    monitor = admin.monitors.create(
        project="iris",
        name="iris-watch",
        reference="iris-train@v1",
        deployment="iris-prod",
        label="species",
        window="1h",
        latency_target_ms=5.0,
    )
    assert monitor.features == COLUMNS  # the deployed model's inputs
    now = time.time()
    start = datetime.fromtimestamp(now - 7201, UTC)
    ids = _log(world, iris, 400, 1, at=now - 7200)  # an hour ago and more: reference-like
    _log(world, iris, 400, 2, at=now - 60, shift=2.0)  # the last hour: petal length shifted

    old = admin.monitors.run(project="iris", name="iris-watch", since=start, until=start + timedelta(hours=1))
    assert not old.drifted and old.rows == 400 and old.window_start == start
    assert old.prediction is not None and not old.prediction.drifted
    assert old.label is None and any("no labels" in n for n in old.notes)
    assert old.infra is not None and old.infra.requests == 400
    assert old.infra.latency_p50_ms == pytest.approx(6.5) and old.infra.latency_p99_ms is not None
    assert old.infra.replicas_recommended == 3  # p95 of 11 ms against a 5 ms target on one replica

    latest = admin.monitors.run(project="iris", name="iris-watch")  # default: the last hour
    assert latest.drifted and "petal_length" in latest.drift.drifted
    assert latest.prediction is not None and latest.prediction.drifted  # the answers moved with the input

    _, y, model = iris
    truth = model.predict(iris[0][np.random.default_rng(1).integers(0, len(y), 400)])
    admin.predictions.label(
        project="iris",
        deployment="iris-prod",
        labels=[Label(request_id=r, value=int(v)) for r, v in zip(ids, truth, strict=True)],
    )
    labelled = admin.monitors.run(
        project="iris", name="iris-watch", since=start, until=start + timedelta(hours=1)
    )
    assert labelled.label is not None and not labelled.label.drifted
    assert labelled.kpis is not None and labelled.kpis.labeled == 400
    assert labelled.figures["kpi.accuracy"] > 0.9
    figures = admin.monitors.infra(
        project="iris", name="iris-watch", since=start, until=start + timedelta(hours=1)
    )
    assert figures.throughput_rps == pytest.approx(400 / 3600)


def test_bad_windows_and_references_are_clear_errors(world: AuthWorld, iris: Any) -> None:
    admin = world.client(world.admin_token)
    with pytest.raises(InvalidInput, match="not inputs of the model 'iris-prod'"):
        admin.monitors.create(
            project="iris", name="w", reference="iris-train@v1", deployment="iris-prod", features=["species"]
        )
    with pytest.raises(NotFound, match="no deployment named 'nope'"):
        admin.monitors.create(project="iris", name="w", reference="iris-train@v1", deployment="nope")
    admin.monitors.create(project="iris", name="w", reference="iris-train@v1", deployment="iris-prod")
    with pytest.raises(InvalidInput, match="has no predictions"):
        admin.monitors.run(project="iris", name="w")
    now = datetime.now(UTC)
    with pytest.raises(InvalidInput, match="at or after its end"):
        admin.monitors.run(project="iris", name="w", since=now, until=now - timedelta(hours=1))
    assert admin.monitors.evaluations(project="iris", name="w").items == []
