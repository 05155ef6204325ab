"""Triton's own HTTP client (``tritonclient.http``), unchanged, against ``keel serve``.

Its defaults are kept: tensors travel in Triton's binary extension (a JSON
header, then raw little-endian bytes), which the server unpacks; answers are
JSON, which the client reads as well. Only the bearer token is added, as
Triton's client adds any header.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from keel.testing.auth import AuthWorld
from keel.testing.fixtures import ServerProcess

from .server import ServeProcess

httpclient = pytest.importorskip("tritonclient.http")
COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


@pytest.fixture
def triton(world: AuthWorld) -> Iterator[tuple[Any, dict[str, str], ServerProcess]]:
    admin = world.client(world.admin_token)
    admin.deployments.create(project="churn", name="iris-prod", model="iris@live")
    token = admin.tokens.create(user="root", scope="predict", deployment="iris-prod").secret
    server = ServeProcess(Path(world.settings.home), "iris-prod", "--poll-s", "0")
    try:
        server.wait_live()
        client = httpclient.InferenceServerClient(url=server.url.removeprefix("http://"))
        yield client, {"Authorization": f"Bearer {token}"}, server
        client.close()
    finally:
        server.stop()


def _inputs(rows: np.ndarray, binary: bool) -> list[Any]:
    made = []
    for i, name in enumerate(COLUMNS):
        tensor = httpclient.InferInput(name, [len(rows)], "FP64")
        tensor.set_data_from_numpy(rows[:, i].astype(np.float64), binary_data=binary)
        made.append(tensor)
    return made


def test_tritons_client_unchanged(
    triton: tuple[Any, dict[str, str], ServerProcess], iris: tuple[Any, Any]
) -> None:
    from tritonclient.utils import InferenceServerException  # type: ignore[import-untyped]

    client, headers, _ = triton  # a copy per call: the client adds its binary header to the dict it is given
    model, X = iris
    rows = X.iloc[[0, 60, 120]].to_numpy()
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("iris", headers=dict(headers))
    metadata = client.get_model_metadata("iris", headers=dict(headers))
    assert [t["name"] for t in metadata["inputs"]] == COLUMNS
    assert [t["name"] for t in metadata["outputs"]] == ["predict"]  # the name infer answers under
    for binary in (True, False):  # Triton's default (binary tensors), then plain JSON
        result = client.infer("iris", _inputs(rows, binary), request_id=f"t-{binary}", headers=dict(headers))
        response = result.get_response()
        assert response["id"] == f"t-{binary}" and response["model_version"] == "1"
        output = response["outputs"][0]["name"]
        assert result.as_numpy(output).tolist() == model.predict(X.iloc[[0, 60, 120]]).tolist()

    # each refusal arrives as the client's own exception, with the server's message
    with pytest.raises(InferenceServerException, match="no model named 'nope'"):
        client.infer("nope", _inputs(rows, True), headers=dict(headers))
    with pytest.raises(InferenceServerException, match="token"):
        client.infer("iris", _inputs(rows, True))  # no token
    text = httpclient.InferInput("sepal_length", [3], "BYTES")
    text.set_data_from_numpy(np.array([b"a", b"b", b"c"], dtype=object), binary_data=True)
    with pytest.raises(InferenceServerException, match="sepal_length"):
        client.infer("iris", [text, *_inputs(rows, True)[1:]], headers=dict(headers))
