"""Following the alias: hot swap over real HTTP, a refused pickle never switched to, canary shares."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from starlette.testclient import TestClient

from keel.context import Context
from keel.serving.app import Server, create_app
from keel.testing.auth import AuthWorld

from .server import ServeProcess

ROW = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}


class Constant:
    """A model no safe format takes: saved as a pickle."""

    def predict(self, data: Any) -> Any:
        return np.zeros(len(data), dtype=np.int64)


def _register_pickle(world: AuthWorld, iris: tuple[Any, Any], folder: Path) -> int:
    import keel.models
    from keel.sdk import register_model

    keel.models.save(Constant(), folder, input_example=iris[1].head(3), unsafe_pickle=True)
    admin = world.client(world.admin_token)
    return int(register_model(folder, "iris", project="churn", client=admin).number)


def _version(url: str, token: str) -> str:
    answer = httpx.post(
        f"{url}/invocations", json={"dataframe_records": [ROW]}, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    body = httpx.post(
        f"{url}/v2/models/iris/infer",
        json={"inputs": [{"name": k, "shape": [1], "datatype": "FP64", "data": [v]} for k, v in ROW.items()]},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    return str(body["model_version"])


@pytest.mark.slow
def test_the_server_swaps_when_the_alias_moves_and_not_to_a_refused_pickle(
    world: AuthWorld, iris: tuple[Any, Any], tmp_path: Path
) -> None:
    admin = world.client(world.admin_token)
    admin.deployments.create(project="churn", name="swap", model="iris@live")
    editor = world.user("ed", role="editor", project="churn")
    server = ServeProcess(Path(world.settings.home), "swap", "--poll-s", "0.2")
    try:
        server.wait_live()
        assert _version(server.url, editor) == "1"
        admin.models.set_alias(project="churn", name="iris", alias="live", version=2)
        deadline = time.monotonic() + 30
        while _version(server.url, editor) != "2":
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.1)
        pickled = _register_pickle(world, iris, tmp_path / "pickled")
        admin.models.set_alias(project="churn", name="iris", alias="live", version=pickled)
        deadline = time.monotonic() + 30
        while "not loaded" not in server.output():
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.1)
        assert _version(server.url, editor) == "2"  # the old version keeps serving
        metrics = httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {editor}"}).text
        assert 'outcome="failed"} 1' in metrics and 'outcome="done"} 1' in metrics
        assert "is a pickle (loading it runs code)" in server.output()
    finally:
        server.stop()


def test_a_pickle_is_served_only_when_the_deployment_opts_in(
    world: AuthWorld, iris: tuple[Any, Any], tmp_path: Path
) -> None:
    pickled = _register_pickle(world, iris, tmp_path / "pickled")
    admin = world.client(world.admin_token)
    admin.deployments.create(project="churn", name="refuses", model=f"iris@{pickled}")
    refusing = create_app(Context(world.settings), "refuses", poll_s=0)
    editor = world.user("ed", role="editor", project="churn")
    with TestClient(refusing) as http:
        assert http.get("/v2/health/ready").status_code == 503
        answer = http.post(
            "/invocations", json={"dataframe_records": [ROW]}, headers={"Authorization": f"Bearer {editor}"}
        )
        assert answer.status_code == 503 and "is a pickle" in answer.json()["message"]
    admin.deployments.create(
        project="churn", name="opts-in", model=f"iris@{pickled}", allow_unsafe_pickle=True
    )
    with TestClient(create_app(Context(world.settings), "opts-in", poll_s=0)) as http:
        answer = http.post(
            "/invocations", json={"dataframe_records": [ROW]}, headers={"Authorization": f"Bearer {editor}"}
        )
        assert answer.status_code == 200 and answer.json() == {"predictions": [0]}


def test_a_canary_gets_its_share_fixed_by_request_id(world: AuthWorld) -> None:
    admin = world.client(world.admin_token)
    admin.deployments.create(project="churn", name="split", model="iris@live", canary="iris@candidate:30%")
    server = Server(Context(world.settings), "split", poll_s=0)
    server.start()
    picks = Counter(server.pick("iris", None, f"req-{i}").version for i in range(2000))
    assert set(picks) == {1, 2} and 500 < picks[2] < 700  # about 30% to the canary (version 2)
    assert all(
        server.pick("iris", None, "same-id").version == server.pick("iris", None, "same-id").version
        for _ in range(5)
    )
    assert server.pick("iris", "2", "any").version == 2  # a version named in the path is that version


def test_a_revoked_predict_token_stops_within_the_cache_bound(world: AuthWorld) -> None:
    admin = world.client(world.admin_token)
    admin.deployments.create(project="churn", name="rev", model="iris@live")
    admin.users.add(name="svc")
    issued = admin.tokens.create(user="svc", scope="predict", deployment="rev")
    body = {"dataframe_records": [ROW]}
    headers = {"Authorization": f"Bearer {issued.secret}"}
    with TestClient(create_app(Context(world.settings), "rev", poll_s=0)) as http:
        assert http.post("/invocations", json=body, headers=headers).status_code == 200
        assert http.get("/v2/models/iris", headers=headers).status_code == 200  # its own status
        admin.tokens.revoke(id=issued.token.id)
        deadline = (
            time.monotonic() + 10
        )  # the verifier's bound is 5 s; twice that before calling it a failure
        while http.post("/invocations", json=body, headers=headers).status_code == 200:
            assert time.monotonic() < deadline
            time.sleep(0.25)
        answer = http.post("/invocations", json=body, headers=headers)
        assert answer.status_code == 401 and answer.json()["error_code"] == "UNAUTHENTICATED"
