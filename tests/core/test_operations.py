"""Operations defined once: a new service gets REST routes, OpenAPI and remote SDK calls with no other code."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from keel.client.backends import RemoteBackend
from keel.client.client import Client, ServiceProxy
from keel.context import Context, Service
from keel.core.errors import InvalidInput, NotFound
from keel.core.operations import (
    GLOBAL,
    Action,
    ByteStream,
    Caller,
    current_caller,
    invoke,
    operation,
    operations_of,
    project_from,
)
from keel.core.settings import load_settings
from keel.server import create_app
from keel.services import SERVICES


class Greeting(BaseModel):
    text: str
    caller: str


class Digest(BaseModel):
    sha256: str
    size: int


class InferOut(BaseModel):
    model_name: str
    outputs: list[float]


class EchoService(Service):
    """A service that exists only in this test."""

    name = "echo"

    @operation("POST", "/api/v1/echo/{project}/greet", action=Action.READ, project=project_from("project"))
    def greet(self, project: str, who: str, times: int = 1) -> Greeting:
        """Greet someone, several times."""
        return Greeting(text=" ".join([f"hello {who}"] * times), caller=current_caller().name)

    @operation("GET", "/api/v1/echo/items", action=Action.AUTHENTICATED, project=GLOBAL)
    def items(self, prefix: str, tags: list[str] | None = None, flag: bool = False) -> list[str]:
        """List items (query parameters, lists and booleans)."""
        return [f"{prefix}:{t}:{flag}" for t in tags or []]

    @operation("PUT", "/api/v1/echo/blobs/{key}", action=Action.WRITE, project=GLOBAL)
    def upload(self, key: str, data: ByteStream) -> Digest:
        """Stream a body through in chunks and hash it."""
        h = hashlib.sha256()
        size = 0
        for chunk in data:
            h.update(chunk)
            size += len(chunk)
        return Digest(sha256=h.hexdigest(), size=size)

    @operation("GET", "/api/v1/echo/blobs/{key}", action=Action.READ, project=GLOBAL)
    def download(self, key: str, size: int = 10) -> ByteStream:
        """Stream bytes back."""
        if key == "missing":
            raise NotFound(f"no blob {key!r}")
        return ByteStream((b"x" * 1000 for _ in range(size)), size=1000 * size)

    @operation("POST", "/v2/models/{name}/infer", action=Action.PREDICT, project=GLOBAL, errors="oip")
    def infer(self, name: str, inputs: list[float]) -> InferOut:
        """Open Inference Protocol at its fixed outside path, with its own error body."""
        if name != "double":
            raise NotFound(f"model {name} not found")
        return InferOut(model_name=name, outputs=[2 * x for x in inputs])


@pytest.fixture
def app_and_client(tmp_path: Path) -> tuple[TestClient, Any]:
    settings = load_settings({"home": str(tmp_path)}, env={})
    app = create_app(Context(settings), services=[EchoService], auth=False)
    http = TestClient(app)
    backend = RemoteBackend("http://testserver", http=http, retries=0)
    return http, ServiceProxy(EchoService, backend)


def test_openapi_describes_the_derived_routes(app_and_client: tuple[TestClient, Any]) -> None:
    http, _ = app_and_client
    spec = http.get("/openapi.json").json()
    greet = spec["paths"]["/api/v1/echo/{project}/greet"]["post"]
    assert greet["operationId"] == "echo.greet"
    assert greet["x-keel-action"] == "read" and greet["x-keel-project-from"] == "project"
    body_ref = greet["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = spec["components"]["schemas"][body_ref.rsplit("/", 1)[1]]
    assert set(body["properties"]) == {"who", "times"} and body["required"] == ["who"]
    items = spec["paths"]["/api/v1/echo/items"]["get"]
    assert {p["name"] for p in items["parameters"]} == {"prefix", "tags", "flag"}
    upload = spec["paths"]["/api/v1/echo/blobs/{key}"]["put"]
    assert "application/octet-stream" in upload["requestBody"]["content"]
    assert "/v2/models/{name}/infer" in spec["paths"]


def test_rest_calls_as_described(app_and_client: tuple[TestClient, Any]) -> None:
    http, _ = app_and_client
    r = http.post("/api/v1/echo/churn/greet", json={"who": "ada", "times": 2})
    assert r.status_code == 200 and r.json()["text"] == "hello ada hello ada"
    r = http.get(
        "/api/v1/echo/items", params=[("prefix", "p"), ("tags", "a"), ("tags", "b"), ("flag", "true")]
    )
    assert r.json() == ["p:a:True", "p:b:True"]
    r = http.post("/api/v1/echo/churn/greet", json={"who": "ada", "times": "many"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_input"
    assert "times" in r.json()["error"]["message"]
    r = http.post("/api/v1/echo/churn/greet", json={"who": "ada", "unexpected": 1})
    assert r.status_code == 422
    assert http.get("/api/v1/nothing-here").json()["error"]["code"] == "not_found"


def test_remote_sdk_calls_derived_from_the_operation(app_and_client: tuple[TestClient, Any]) -> None:
    _, echo = app_and_client
    greeting = echo.greet("churn", who="grace", times=3)
    assert isinstance(greeting, Greeting) and greeting.text.count("grace") == 3
    assert echo.items(prefix="q", tags=["x"], flag=False) == ["q:x:False"]
    with pytest.raises(InvalidInput, match="times"):
        echo.greet("churn", who="grace", times="lots")
    with pytest.raises(InvalidInput, match="unexpected keyword"):
        echo.greet("churn", who="grace", colour="red")


def test_streamed_upload_and_download(app_and_client: tuple[TestClient, Any]) -> None:
    http, echo = app_and_client
    chunks = [bytes([i % 256]) * 65536 for i in range(40)]
    digest = echo.upload("k", (c for c in chunks))
    assert digest.size == 40 * 65536
    assert digest.sha256 == hashlib.sha256(b"".join(chunks)).hexdigest()
    r = http.put("/api/v1/echo/blobs/k", content=b"abc", headers={"Content-Type": "application/octet-stream"})
    assert r.json() == {"sha256": hashlib.sha256(b"abc").hexdigest(), "size": 3}
    stream = echo.download("k", size=7)
    assert isinstance(stream, ByteStream) and stream.size == 7000
    assert stream.read_all() == b"x" * 7000
    with pytest.raises(NotFound, match="no blob"):
        echo.download("missing")


def test_outside_protocol_keeps_its_path_and_error_body(app_and_client: tuple[TestClient, Any]) -> None:
    http, echo = app_and_client
    r = http.post("/v2/models/double/infer", json={"inputs": [1.5, 2]})
    assert r.json() == {"model_name": "double", "outputs": [3.0, 4.0]}
    r = http.post("/v2/models/other/infer", json={"inputs": [1]})
    assert r.status_code == 404 and r.json() == {"error": "model other not found"}
    r = http.post("/v2/models/double/infer", json={"inputs": "nope"})
    assert r.status_code == 422 and isinstance(r.json()["error"], str)
    with pytest.raises(NotFound, match="model other not found"):
        echo.infer("other", inputs=[1.0])


def test_invoke_checks_permission_before_running(tmp_path: Path) -> None:
    seen: list[tuple[str, Action, str | None]] = []

    class Recorder:
        def authorize(self, caller: Caller, action: Action, project: str | None) -> None:
            seen.append((caller.name, action, project))
            if caller.name == "mallory":
                raise NotFound(f"no project named {project!r}")

    op = operations_of(EchoService)["greet"]
    service = EchoService(Context(load_settings({"home": str(tmp_path)}, env={})))
    out = invoke(
        op, service, {"project": "churn", "who": "x"}, caller=Caller(name="ada"), authorizer=Recorder()
    )
    assert out.caller == "ada"
    with pytest.raises(NotFound):
        invoke(
            op,
            service,
            {"project": "churn", "who": "x"},
            caller=Caller(name="mallory"),
            authorizer=Recorder(),
        )
    assert seen == [("ada", Action.READ, "churn"), ("mallory", Action.READ, "churn")]


def test_operation_must_declare_action_and_project() -> None:
    with pytest.raises(TypeError, match="action"):
        operation("GET", "/x", action="read", project=GLOBAL)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="project"):
        operation("GET", "/x", action=Action.READ, project="churn")  # type: ignore[arg-type]

    class Broken(Service):
        name = "broken"

        @operation("GET", "/api/v1/broken", action=Action.READ, project=project_from("nowhere"))
        def get(self, name: str) -> str:
            return name

    with pytest.raises(TypeError, match="names no input field"):
        operations_of(Broken)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_every_keel_operation_declares_action_and_project(service: type[Service]) -> None:
    ops = operations_of(service)
    assert ops, f"{service.__name__} defines no operations"
    for op in ops.values():
        assert isinstance(op.action, Action), op.name
        assert op.project.field is None or op.project.field in op.input_model.model_fields, op.name
        assert op.summary, f"{op.name} has no docstring to document its route"
        if op.action in (Action.READ, Action.WRITE, Action.ADMIN):
            assert op.project.field is not None or op.path.startswith("/v2/"), (
                f"{op.name} needs a project role but does not say where its project comes from"
            )


def test_client_exposes_every_service() -> None:
    for service in SERVICES:
        assert service.name in Client.__annotations__, f"Client lacks a typed attribute for {service.name}"
