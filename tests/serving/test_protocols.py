"""``keel serve`` over real HTTP: OIP v2 and MLflow scoring, signature checks, tokens, each error body."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from keel.testing.auth import AuthWorld
from keel.testing.fixtures import ServerProcess

from .server import ServeProcess

COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
ROW = [5.1, 3.5, 1.4, 0.2]


class Served:
    def __init__(self, world: AuthWorld, server: ServerProcess, tokens: dict[str, str]) -> None:
        self.world, self.server, self.tokens = world, server, tokens

    def post(self, path: str, who: str | None = "predict", **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        headers.update(kw.pop("headers", {}))
        return httpx.post(self.server.url + path, headers=headers, timeout=30, **kw)

    def get(self, path: str, who: str | None = "predict") -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return httpx.get(self.server.url + path, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    import keel.models
    from keel.sdk import register_model

    X, y = load_iris(return_X_y=True, as_frame=True)
    X.columns = COLUMNS
    root = tmp_path_factory.mktemp("serving")
    keel.models.save(LogisticRegression(max_iter=500).fit(X, y), root / "pkg", input_example=X.head(3))
    world = AuthWorld(root / "ws")
    world.project("churn")
    admin = world.client(world.admin_token)
    version = register_model(root / "pkg", "iris", project="churn", client=admin)
    admin.models.set_alias(project="churn", name="iris", alias="live", version=version.number)
    admin.deployments.create(project="churn", name="iris-prod", model="iris@live")
    admin.deployments.create(project="churn", name="other", model="iris@live")
    svc = world.client(world.admin_token).users.add(name="svc").secret
    assert svc
    tokens = {
        "predict": admin.tokens.create(user="svc", scope="predict", deployment="iris-prod").secret,
        "other": admin.tokens.create(user="svc", scope="predict", deployment="other").secret,
        "editor": world.user("ed", role="editor", project="churn"),
        "viewer": world.user("vi", role="viewer", project="churn"),
        "stranger": world.user("st"),
    }
    server = ServeProcess(Path(world.settings.home), "iris-prod", "--poll-s", "0.3")
    try:
        server.wait_live()
        yield Served(world, server, tokens)
    finally:
        server.stop()


def _oip(**overrides: Any) -> dict[str, Any]:
    inputs = [
        {"name": n, "shape": [1], "datatype": "FP64", "data": [v]} for n, v in zip(COLUMNS, ROW, strict=True)
    ]
    return {"id": "r1", "inputs": inputs, **overrides}


def test_health_is_public_and_ready(served: Served) -> None:
    for path in ("/v2/health/live", "/v2/health/ready", "/ping", "/health"):
        assert served.get(path, who=None).status_code == 200, path


def test_oip_infer_answers_typed_tensors_and_echoes_the_id(served: Served) -> None:
    answer = served.post("/v2/models/iris/infer", json=_oip())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["id"], body["model_name"], body["model_version"]) == ("r1", "iris", "1")
    [out] = body["outputs"]
    assert (out["shape"], out["datatype"], out["data"]) == ([1], "INT64", [0])
    assert answer.headers["x-request-id"] == "r1"
    # one [rows, 4] tensor in the signature's order works too, and a header id is echoed
    table = {
        "inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP32", "data": [ROW, [6.7, 3.0, 5.2, 2.3]]}]
    }
    answer = served.post("/v2/models/iris/versions/1/infer", json=table, headers={"X-Request-ID": "h7"})
    assert answer.json()["outputs"][0]["data"] == [0, 2] and answer.headers["x-request-id"] == "h7"


def test_oip_metadata_has_the_signature(served: Served) -> None:
    meta = served.get("/v2/models/iris", who="viewer").json()
    assert meta["name"] == "iris" and meta["versions"] == ["1"] and meta["platform"] == "keel-sklearn"
    assert [i["name"] for i in meta["inputs"]] == COLUMNS
    assert meta["inputs"][0] == {"name": "sepal_length", "datatype": "FP64", "shape": [-1]}
    assert meta["outputs"][0]["datatype"] == "INT64"
    server = served.get("/v2", who="viewer").json()
    assert server["name"] == "keel" and "version" in server
    assert served.get("/v2/models/iris/ready").json()["ready"] is True


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        (_oip(inputs=_oip()["inputs"][:3]), 422, "input 'petal_width' is missing"),
        (
            _oip(
                inputs=[
                    *_oip()["inputs"][:3],
                    {"name": "petal_width", "shape": [1], "datatype": "BYTES", "data": ["x"]},
                ]
            ),
            422,
            "input 'petal_width' is object",
        ),
        (
            _oip(
                inputs=[
                    *_oip()["inputs"][:3],
                    {"name": "petal_width", "shape": [1], "datatype": "INT64", "data": [1.5]},
                ]
            ),
            422,
            "input 'petal_width' is INT64 but its data holds float64",
        ),
        (
            _oip(
                inputs=[
                    *_oip()["inputs"][:3],
                    {"name": "petal_width", "shape": [2], "datatype": "FP64", "data": [1.0]},
                ]
            ),
            422,
            "input 'petal_width' has 1 values; its shape [2] holds 2",
        ),
        (
            _oip(
                inputs=[
                    *_oip()["inputs"][:3],
                    {"name": "petal_width", "shape": [1], "datatype": "FP128", "data": [1.0]},
                ]
            ),
            422,
            "datatype 'FP128'",
        ),
        (
            _oip(inputs=[*_oip()["inputs"], {"name": "age", "shape": [1], "datatype": "INT64", "data": [4]}]),
            422,
            "'age' is not one of",
        ),
        ({"inputs": []}, 422, "needs 'inputs'"),
        (
            _oip(inputs=[{"name": "x", "shape": [1, 3], "datatype": "FP64", "data": [[1, 2, 3]]}]),
            422,
            "takes 4 columns",
        ),
    ],
)
def test_oip_bad_inputs_are_422_naming_the_field(served: Served, body: Any, status: int, needle: str) -> None:
    answer = served.post("/v2/models/iris/infer", json=body)
    assert answer.status_code == status, answer.text
    assert needle in answer.json()["error"]


def test_oip_unknown_model_version_and_non_json(served: Served) -> None:
    answer = served.post("/v2/models/churn/infer", json=_oip())
    assert answer.status_code == 404 and "no model named 'churn' here" in answer.json()["error"]
    answer = served.post("/v2/models/iris/versions/9/infer", json=_oip())
    assert answer.status_code == 404 and "no version 9" in answer.json()["error"]
    answer = served.post(
        "/v2/models/iris/infer", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422 and "not JSON" in answer.json()["error"]
    answer = served.post("/v2/models/iris/infer", content=b"x" * (17 << 20))
    assert answer.status_code == 413 and "at most" in answer.json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        {"dataframe_split": {"columns": COLUMNS, "data": [ROW, [6.7, 3.0, 5.2, 2.3]]}},
        {
            "dataframe_records": [
                dict(zip(COLUMNS, ROW, strict=True)),
                dict(zip(COLUMNS, [6.7, 3.0, 5.2, 2.3], strict=True)),
            ]
        },
        {"instances": [ROW, [6.7, 3.0, 5.2, 2.3]]},
        {"inputs": {c: [a, b] for c, a, b in zip(COLUMNS, ROW, [6.7, 3.0, 5.2, 2.3], strict=True)}},
    ],
)
def test_mlflow_invocations_take_each_json_format(served: Served, body: Any) -> None:
    answer = served.post("/invocations", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"predictions": [0, 2]}


def test_mlflow_invocations_take_csv_and_refuse_bad_input_in_mlflow_shape(served: Served) -> None:
    csv = ",".join(COLUMNS) + "\n" + ",".join(map(str, ROW)) + "\n"
    answer = served.post("/invocations", content=csv.encode(), headers={"Content-Type": "text/csv"})
    assert answer.status_code == 200 and answer.json() == {"predictions": [0]}
    answer = served.post(
        "/invocations", json={"dataframe_split": {"columns": COLUMNS[:3], "data": [ROW[:3]]}}
    )
    assert answer.status_code == 422
    assert answer.json() == {
        "error_code": "BAD_REQUEST",
        "message": "input 'petal_width' is missing (the model takes float64)",
    }
    answer = served.post(
        "/invocations",
        json={"dataframe_records": [{**dict(zip(COLUMNS, ROW, strict=True)), "sepal_width": "wide"}]},
    )
    assert answer.status_code == 422 and "input 'sepal_width' is <U4" in answer.json()["message"]
    answer = served.post("/invocations", json={"columns": COLUMNS})
    assert answer.status_code == 422 and "exactly one of" in answer.json()["message"]
    answer = served.post("/invocations", content=b"nope", headers={"Content-Type": "application/json"})
    assert answer.status_code == 422 and "not JSON" in answer.json()["message"]
    answer = served.post("/invocations", content=b"a", headers={"Content-Type": "text/plain"})
    assert answer.status_code == 422 and "content type 'text/plain'" in answer.json()["message"]


def test_who_may_call(served: Served) -> None:
    body = {"instances": [ROW]}
    assert served.post("/invocations", who=None, json=body).status_code == 401
    assert (
        served.post("/v2/models/iris/infer", who=None, json=_oip())
        .json()["error"]
        .startswith("this endpoint needs a token")
    )
    assert served.post("/invocations", who="editor", json=body).status_code == 200
    viewer = served.post("/invocations", who="viewer", json=body)
    assert viewer.status_code == 403 and viewer.json()["error_code"] == "PERMISSION_DENIED"
    assert served.get("/v2/models/iris", who="viewer").status_code == 200  # a viewer reads status
    assert served.get("/metrics", who="viewer").status_code == 200
    assert (
        served.post("/invocations", who="other", json=body).status_code == 403
    )  # another deployment's token
    assert served.post("/invocations", who="stranger", json=body).status_code == 403
    assert served.get("/v2", who=None).status_code == 401
    assert served.get("/metrics", who=None).status_code == 401


def test_metrics_count_requests_and_the_version(served: Served) -> None:
    served.post("/invocations", json={"instances": [ROW]})
    text = served.get("/metrics", who="editor").text
    assert 'keel_serving_requests_total{deployment="iris-prod",route="invocations",code="200"}' in text
    assert 'keel_serving_model_version{deployment="iris-prod",role="target"} 1' in text
    assert "keel_serving_request_seconds_bucket" in text and "process_cpu_seconds_total" in text
