"""The closed loop, end to end (issue 15.6): deploy; quiet traffic, no alert; shifted traffic, an alert; the
retraining trigger runs the project's pipeline on the newest data version; its validation gate passes; the
alias moves; the server hot-swaps; the monitor takes the new reference; the next window is quiet again."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from starlette.testclient import TestClient

from keel.testing.auth import AuthWorld

COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
SHIFT = 1.5  # production's petal lengths drift by this much

PIPELINE = '''
"""Retrain the iris model on the newest data version, if it validates; promote it; move the monitor's reference."""

import keel.pipelines as kp
from keel.client import connect
from keel.pipelines import gates
from keel.validation.suite import load_suite


@kp.step
def train(home: str, address: str, digest: str) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    import keel.data

    table = keel.data.get(address, project="iris", client=connect(home=home)).to_pandas()
    X, y = table[COLUMNS], table["species"]
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    model = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    kp.log_metrics({"accuracy": float(model.score(X_val, y_val))})
    return {"model": model, "example": X_val.head(3)}


@kp.step
def rebase(home: str, address: str, promoted: dict) -> str:
    """Once the new model is live, judge production against the data it learned from."""
    return connect(home=home).monitors.rebase(project="iris", name="iris-watch", reference=address).reference_address


COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


@kp.pipeline(name="iris-retrain")
def retrain(home: str = "", suite: str = "") -> object:
    latest = connect(home=home).data.version(project="iris", name="iris-data", version="latest")
    address = f"iris-data@v{latest.number}"
    ok = gates.validate_data(address, suite=load_suite(suite))
    version = gates.register(train(home, address, latest.digest), name="iris").after(ok)
    return rebase(home, address, gates.promote(version, to="live"))
'''


def _table(X: np.ndarray, y: np.ndarray, rng: np.random.Generator, n: int, shift: float) -> pa.Table:
    rows = rng.integers(0, len(y), n)
    values = X[rows] + rng.normal(0, 0.05, (n, 4))
    values[:, 2] += shift
    return pa.table({**{c: values[:, i] for i, c in enumerate(COLUMNS)}, "species": y[rows]})


def _add(admin: Any, table: pa.Table, path: Path) -> None:
    import keel.data

    pq.write_table(table, path)
    keel.data.add(path, "iris-data", project="iris", pointer=False, gitignore=False, client=admin)


def _traffic(http: TestClient, token: str, table: pa.Table) -> set[str]:
    """Send every row of ``table`` as one request; the model versions that answered."""
    versions = set()
    for row in table.select(COLUMNS).to_pylist():
        body = {
            "inputs": [{"name": k, "shape": [1], "datatype": "FP64", "data": [v]} for k, v in row.items()]
        }
        answer = http.post("/v2/models/iris/infer", json=body, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        versions.add(str(answer.json()["model_version"]))
    return versions


@pytest.mark.slow  # trains, serves and retrains a model
def test_drift_alert_retrains_promotes_hot_swaps_and_the_next_window_is_quiet(tmp_path: Path) -> None:
    import pandas as pd
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    import keel.models
    from keel.client import Client
    from keel.client.backends import InProcessBackend
    from keel.pipelines.worker import TriggerWorker
    from keel.sdk import register_model
    from keel.serving.app import create_app
    from keel.validation.suite import ColumnRules, RowRules, Suite

    X, y = load_iris(return_X_y=True)
    rng = np.random.default_rng(0)
    world = AuthWorld(tmp_path / "ws")
    world.project("iris")
    admin = world.client(world.admin_token)
    admin.projects.edit(name="iris", kpis=["accuracy >= 0.85"])  # the promotion gate (offline)
    train_v1 = _table(X, y, rng, 600, 0.0)
    _add(admin, train_v1, tmp_path / "v1.parquet")
    frame = train_v1.select(COLUMNS).to_pandas()
    model = LogisticRegression(max_iter=1000).fit(frame, train_v1.column("species").to_numpy())
    keel.models.save(model, tmp_path / "pkg", input_example=pd.DataFrame(frame.head(3)))
    v1 = register_model(tmp_path / "pkg", "iris", project="iris", client=admin)
    admin.models.set_alias(project="iris", name="iris", alias="live", version=v1.number)
    admin.deployments.create(project="iris", name="iris-prod", model="iris@live")

    suite_path = tmp_path / "suite.yaml"
    # Data quality, not distribution: the new data is expected to have moved.
    Suite(
        name="iris-quality",
        rows=RowRules(min=100),
        columns={c: ColumnRules(kind="float", nullable=False) for c in COLUMNS},
    ).save(suite_path)
    (tmp_path / "retrain.py").write_text(textwrap.dedent(PIPELINE))
    admin.pipelines.add_trigger(
        project="iris",
        target=f"{tmp_path / 'retrain.py'}:retrain",
        event="drift:iris-prod",
        params={"home": str(world.settings.home), "suite": str(suite_path)},
        cooldown_s=0,
    )
    admin.monitors.create(
        project="iris", name="iris-watch", reference="iris-data@v1", deployment="iris-prod", window="1h"
    )
    rule = admin.monitors.add_rule(
        project="iris", monitor="iris-watch", expression="drift.share > 0.2", sink="retrain"
    )
    worker = TriggerWorker(
        world.ctx, lambda caller: Client(InProcessBackend(world.ctx, caller), world.settings)
    )
    user = world.user("app", role="editor", project="iris")

    app = create_app(world.ctx, "iris-prod", poll_s=0.1)
    with TestClient(app) as http:
        server = app.state.server
        assert _traffic(http, user, _table(X, y, rng, 150, 0.0)) == {"1"}
        server.log.flush()
        quiet = admin.monitors.run(project="iris", name="iris-watch")
        assert not quiet.drifted and quiet.alerts == []

        shifted = _table(X, y, rng, 150, SHIFT)
        _traffic(http, user, shifted)
        server.log.flush()
        alarmed = admin.monitors.run(project="iris", name="iris-watch")
        assert alarmed.drifted and "petal_length" in alarmed.drift.drifted
        (alert,) = alarmed.alerts
        assert alert.rule == rule.id and alert.delivery == "delivered", alert.delivery_detail
        assert alert.delivery_detail.startswith("queued firing")

        _add(admin, _table(X, y, rng, 600, SHIFT), tmp_path / "v2.parquet")  # the newest data: labelled drift
        firing = worker.run_once()
        assert firing is not None and firing.status == "DONE" and firing.pipeline_run_id, firing
        run = admin.pipelines.get(project="iris", pipeline_run_id=firing.pipeline_run_id)
        assert {s.name: s.status for s in run.steps}["validate_data"] in ("DONE", "FINISHED")
        live = admin.models.get(project="iris", ref="iris@live")
        assert live.number == 2 and "live" in live.aliases
        assert admin.monitors.get(project="iris", name="iris-watch").reference_address.endswith(
            "iris-data@v2"
        )

        deadline = time.monotonic() + 30
        while _traffic(http, user, shifted.slice(0, 1)) != {"2"}:  # the server follows the alias
            assert time.monotonic() < deadline
            time.sleep(0.1)
        since = admin.monitors.evaluations(project="iris", name="iris-watch").items[0].created_at
        _traffic(http, user, _table(X, y, rng, 150, SHIFT))
        server.log.flush()
        after = admin.monitors.run(project="iris", name="iris-watch", since=since)
        assert not after.drifted, after.drift.drifted
        assert after.infra is not None and after.infra.model_versions.get("2", 0) >= 150
    assert [a.state for a in admin.monitors.alerts(project="iris")] == ["resolved"]
