"""Every route of the app, tried by each kind of caller that should be refused.

Enumerates the app's routes (so a route added later is covered without
touching this file) and proves, with auth on: an anonymous caller gets 401
everywhere but the public routes; a signed-in caller with no role on the
project gets 404 (as if it did not exist); a viewer or editor lacking the
role gets 403; a caller without the global right gets 403; a serving token
gets 403 from every operation that is not PREDICT.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.routing import Route

from keel.core.operations import Action, Operation, operations_of
from keel.server.security import PUBLIC_PATHS
from keel.services import SERVICES
from keel.testing.auth import AuthWorld

PROJECT = "churn"
SOME_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def _deployment(admin: Any, root: Path, name: str) -> None:
    """A registered model at alias live in project 'serving', deployed as ``name``."""
    from sklearn.linear_model import LogisticRegression

    import keel.models
    from keel.sdk import register_model

    keel.models.save(LogisticRegression().fit([[0.0], [1.0]], [0, 1]), root / "pkg")
    admin.projects.create(name="serving")
    version = register_model(root / "pkg", "m", project="serving", client=admin)
    admin.models.set_alias(project="serving", name="m", alias="live", version=version.number)
    admin.deployments.create(project="serving", name=name, model="m@live")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    w = AuthWorld(Path(tmp_path_factory.mktemp("routes")))
    w.project(PROJECT)
    admin = w.client(w.admin_token)
    _deployment(admin, Path(tmp_path_factory.mktemp("pkg")), "churn-prod")  # a predict token names one
    tokens = {
        "nobody": w.user("nobody", can_create_projects=False),
        "viewer": w.user("viewer", role="viewer", project=PROJECT),
        "editor": w.user("editor", role="editor", project=PROJECT),
        "serving": str(
            admin.tokens.create(name="svc", user="nobody", scope="predict", deployment="churn-prod").secret
        ),
    }
    editor = w.client(tokens["editor"])
    run = editor.runs.create(project=PROJECT)
    editor.runs.upload_artifact(run.id, "a/b.txt", [b"bytes"])
    w.objects = {"run_id": run.id, "id": editor.tokens.ls()[0].id}  # type: ignore[attr-defined]
    return w, tokens


def _routes(world: Any) -> list[tuple[Route, Operation | None]]:
    """Every route answering HTTP methods (API routes and any plain route), bar the public ones."""
    w, _ = world
    return [
        (r, getattr(r, "keel_op", None))
        for r in w.app.routes
        if isinstance(r, Route) and r.methods and r.path not in PUBLIC_PATHS
    ]


def _request(route: Route, op: Operation | None) -> dict[str, Any]:
    """A request naming PROJECT wherever the operation takes its project from."""
    field = op.project.field if op is not None else None
    path = route.path
    for name in route.param_convertors:
        path = path.replace("{" + name + "}", PROJECT if name == field else SOME_ID)
        path = path.replace("{" + name + ":path}", "a/b.txt")
    method = sorted(route.methods)[0]
    kwargs: dict[str, Any] = {"method": method, "url": path}
    in_path = field is not None and field in route.param_convertors
    if op is not None and op.stream_param is not None:
        kwargs["content"] = b"bytes"
        if field and not in_path:
            kwargs["params"] = {field: PROJECT}
    elif method in ("GET", "DELETE", "HEAD"):
        if field and not in_path:
            kwargs["params"] = {field: PROJECT}
    else:
        kwargs["json"] = {field: PROJECT} if field and not in_path else {}
    return kwargs


def test_there_are_routes_of_every_kind(world: Any) -> None:
    actions = {op.action for _, op in _routes(world) if op is not None}
    assert {Action.READ, Action.WRITE, Action.ADMIN, Action.GLOBAL_ADMIN, Action.CREATE_PROJECT} <= actions


def test_every_route_refuses_an_anonymous_caller(world: Any) -> None:
    w, _ = world
    http = w.http()
    for route, op in _routes(world):
        response = http.request(**_request(route, op))
        assert response.status_code == 401, f"{route.methods} {route.path}: {response.status_code}"
        assert response.json()["error"]["code"] == "unauthenticated"
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_public_routes_answer_anyone(world: Any) -> None:
    w, _ = world
    http = w.http()
    for path in ("/api/v1/health", "/api/v1/version", "/openapi.json", "/docs"):
        assert http.get(path).status_code == 200
    assert {r.path for r in w.app.routes if isinstance(r, Route)} >= PUBLIC_PATHS


def test_a_caller_without_a_role_cannot_see_the_project(world: Any) -> None:
    w, tokens = world
    http = w.http(tokens["nobody"])
    checked = 0
    for route, op in _routes(world):
        if (
            op is None
            or op.project.field is None
            or op.action not in (Action.READ, Action.WRITE, Action.ADMIN)
        ):
            continue
        response = http.request(**_request(route, op))
        assert response.status_code == 404, f"{op.name}: {response.status_code} {response.text}"
        assert response.json()["error"]["message"] == f"no project named {PROJECT!r}"
        checked += 1
    assert checked >= 5


#: What each id in a path names for a caller with no role on PROJECT: the 404 starts so.
BY_ID_MESSAGES = {"run_id": "no run", "id": "no token"}
#: Valid values for the other required inputs, so a by-id operation gets as far as its check.
BY_ID_INPUTS: dict[str, Any] = {"path": "a/b.txt", "key": "loss", "refs": ["run:" + SOME_ID]}


def _by_id_operations() -> list[Any]:
    """Every operation that finds its project only from an object's id (AUTHENTICATED, id in path)."""
    ops = [
        op
        for service in SERVICES
        for op in operations_of(service).values()
        if op.action is Action.AUTHENTICATED and "{" in op.path
    ]
    return [pytest.param(op, id=op.name) for op in ops]


def _by_id_request(w: Any, op: Operation) -> dict[str, Any]:
    path_params = [name for name in BY_ID_MESSAGES if "{" + name + "}" in op.path]
    assert path_params, f"{op.name}: add a real object for its path id to BY_ID_MESSAGES and the world"
    url = op.path
    for name in path_params:
        url = url.replace("{" + name + "}", w.objects[name])
    inputs: dict[str, Any] = {}
    for name, field in op.input_model.model_fields.items():
        if name in path_params or not field.is_required():
            continue
        assert name in BY_ID_INPUTS, f"{op.name}: add a valid value for {name!r} to BY_ID_INPUTS"
        inputs[name] = BY_ID_INPUTS[name]
    if op.stream_param is not None:
        return {"method": op.method, "url": url, "params": inputs, "content": b"bytes"}
    if op.method in ("GET", "DELETE"):
        return {"method": op.method, "url": url, "params": inputs}
    return {"method": op.method, "url": url, "json": inputs}


def test_there_are_operations_addressed_by_id(world: Any) -> None:
    assert len(_by_id_operations()) >= 5


@pytest.mark.parametrize("op", _by_id_operations())
def test_a_caller_without_a_role_cannot_see_objects_by_id(world: Any, op: Operation) -> None:
    """As if the object did not exist: 404 naming the object, never the project it belongs to."""
    w, tokens = world
    response = w.http(tokens["nobody"]).request(**_by_id_request(w, op))
    assert response.status_code == 404, f"{op.name}: {response.status_code} {response.text}"
    message = response.json()["error"]["message"]
    expected = next(m for name, m in BY_ID_MESSAGES.items() if "{" + name + "}" in op.path)
    assert message.startswith(expected), f"{op.name}: {message}"
    assert PROJECT not in response.text, f"{op.name} names the project: {response.text}"


@pytest.mark.parametrize(
    ("who", "refused"), [("viewer", {Action.WRITE, Action.ADMIN}), ("editor", {Action.ADMIN})]
)
def test_a_lesser_role_gets_403(world: Any, who: str, refused: set[Action]) -> None:
    w, tokens = world
    http = w.http(tokens[who])
    checked = 0
    for route, op in _routes(world):
        if op is None or op.action not in refused or op.project.field is None:
            continue
        response = http.request(**_request(route, op))
        assert response.status_code == 403, f"{who} {op.name}: {response.status_code} {response.text}"
        assert response.json()["error"]["code"] == "permission_denied"
        checked += 1
    assert checked >= 2


def test_global_rights_are_needed_for_global_operations(world: Any) -> None:
    w, tokens = world
    http = w.http(tokens["editor"])
    for route, op in _routes(world):
        if op is None:
            continue
        needs_global = op.action in (Action.GLOBAL_ADMIN, Action.CREATE_PROJECT, Action.PREDICT) or (
            op.action in (Action.WRITE, Action.ADMIN) and op.project.field is None
        )
        if not needs_global:
            continue
        response = http.request(**_request(route, op))
        assert response.status_code == 403, f"{op.name}: {response.status_code} {response.text}"


def test_a_serving_token_can_do_nothing_but_predict(world: Any) -> None:
    w, tokens = world
    http = w.http(tokens["serving"])
    for route, op in _routes(world):
        if op is not None and op.action is Action.PREDICT:
            continue
        response = http.request(**_request(route, op))
        assert response.status_code == 403, f"{route.path}: {response.status_code} {response.text}"
