"""``keel serve`` logs each answered request off the request path; labels join by the echoed id."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from keel.predictions.query import window
from keel.testing.auth import AuthWorld

from .server import ServeProcess

COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
ROW = [5.1, 3.5, 1.4, 0.2]


def _oip(rows: int, **extra: Any) -> dict[str, Any]:
    inputs = [
        {"name": n, "shape": [rows], "datatype": "FP64", "data": [v] * rows}
        for n, v in zip(COLUMNS, ROW, strict=True)
    ]
    return {"inputs": inputs, **extra}


def test_served_requests_are_logged_and_labeled(
    world: AuthWorld, tmp_path: Path, keel_cli: Callable[..., Any], monkeypatch: Any
) -> None:
    admin = world.client(world.admin_token)
    admin.deployments.create(project="churn", name="iris-prod", model="iris@live")
    token = admin.tokens.create(user="root", scope="predict", deployment="iris-prod").secret
    headers = {"Authorization": f"Bearer {token}"}
    server = ServeProcess(Path(world.settings.home), "iris-prod", "--poll-s", "0")
    try:
        server.wait_live()
        url = server.url
        one = httpx.post(f"{url}/v2/models/iris/infer", json=_oip(1, id="r1"), headers=headers, timeout=30)
        assert one.status_code == 200 and one.json()["id"] == "r1"
        many = httpx.post(f"{url}/v2/models/iris/infer", json=_oip(3), headers=headers, timeout=30)
        generated = many.json()["id"]
        assert many.headers["x-request-id"] == generated and len(generated) >= 16
        mlflow = httpx.post(
            f"{url}/invocations",
            json={"dataframe_split": {"columns": COLUMNS, "data": [ROW]}},
            headers={**headers, "X-Request-ID": "m1"},
            timeout=30,
        )
        assert mlflow.status_code == 200 and mlflow.headers["x-request-id"] == "m1"
        bad = httpx.post(f"{url}/v2/models/iris/infer", json={"id": "bad", "inputs": []}, headers=headers)
        assert bad.status_code == 422
    finally:
        server.stop()  # SIGTERM: the server flushes its log before it exits
    table = window(world.ctx, "iris-prod")
    assert sorted(table.column("request_id").to_pylist()) == sorted(
        ["r1", f"{generated}:0", f"{generated}:1", f"{generated}:2", "m1"]
    )
    assert set(table.column("model_version").to_pylist()) == {1}
    assert all(ms > 0 for ms in table.column("latency_ms").to_pylist())

    labels = tmp_path / "labels.csv"
    labels.write_text(f"request_id,label\nr1,0\n{generated}:2,1\n")
    monkeypatch.setenv("KEEL_HOME", str(world.settings.home))
    done = keel_cli("predictions", "label", "iris-prod", "--file", str(labels), "-p", "churn")
    assert done.code == 0, done.err
    again = keel_cli("predictions", "label", "iris-prod", "--file", str(labels), "-p", "churn")
    assert again.code != 0 and "labeled already" in again.err
    listed = keel_cli("predictions", "ls", "iris-prod", "--labeled", "--json", "-p", "churn")
    assert listed.code == 0, listed.err
    assert sorted((r["request_id"], r["label"]) for r in json.loads(listed.out)) == sorted(
        [("r1", 0), (f"{generated}:2", 1)]
    )
    missing = tmp_path / "bad.csv"
    missing.write_text("id,label\nr1,0\n")
    wrong = keel_cli("predictions", "label", "iris-prod", "--file", str(missing), "-p", "churn")
    assert wrong.code == 2 and "no column 'request_id'" in wrong.err
