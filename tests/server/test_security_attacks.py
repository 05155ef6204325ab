"""Trying to get in: forged, expired, revoked and other users' tokens; a viewer trying every
editor and admin operation on real objects; path traversal; injection through the run filter."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from keel.auth.models import TokenRow
from keel.auth.tokens import generate_token
from keel.core.timeutil import utcnow
from keel.testing.auth import AuthWorld


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    w = AuthWorld(Path(tmp_path_factory.mktemp("attacks")))
    w.project("churn")
    w.project("secret")
    tokens = {
        "viewer": w.user("vic", role="viewer", project="churn"),
        "editor": w.user("eddie", role="editor", project="churn"),
        "outsider": w.user("otto"),
    }
    editor = w.client(tokens["editor"])
    run = editor.runs.create(project="churn", params={"depth": 6})
    editor.runs.upload_artifact(run.id, "model/weights.bin", [b"0123"])
    return w, tokens, run.id


def _status(w: AuthWorld, token: str | None, method: str, url: str, **kw: Any) -> int:
    return int(w.http(token).request(method, url, **kw).status_code)


def test_forged_malformed_and_foreign_tokens_are_401(world: Any) -> None:
    w, tokens, _ = world
    real = tokens["viewer"]
    for bad in (
        generate_token(),  # well formed, never issued here
        real[:-1] + ("A" if real[-1] != "A" else "B"),  # one character changed
        "keel_" + "0" * 43,
        "not-a-token",
        real + "x",
    ):
        response = w.http(bad).get("/api/v1/projects")
        assert response.status_code == 401, bad
        assert response.json()["error"]["code"] == "unauthenticated"
    basic = w.http(**{"Authorization": "Basic dXNlcjpwYXNz"}).get("/api/v1/projects")
    assert basic.status_code == 401
    in_query = w.http().get("/api/v1/projects", params={"token": real, "access_token": real})
    assert in_query.status_code == 401  # tokens are read from the Authorization header only


def test_expired_and_revoked_tokens_are_401(world: Any) -> None:
    w, _, _ = world
    admin = w.client(w.admin_token)
    admin.users.add(name="temp")
    expiring = admin.tokens.create(name="short", user="temp", expires="1h")
    assert _status(w, expiring.secret, "GET", "/api/v1/whoami") == 200
    with w.ctx.store.write() as session:
        session.get(TokenRow, expiring.token.id).expires_at = utcnow() - timedelta(seconds=1)
    w.ctx.authorizer.invalidate()  # type: ignore[attr-defined]
    response = w.http(expiring.secret).get("/api/v1/whoami")
    assert response.status_code == 401 and "expired" in response.json()["error"]["message"]
    revoked = admin.tokens.create(name="gone", user="temp")
    admin.tokens.revoke(revoked.token.id)
    response = w.http(revoked.secret).get("/api/v1/whoami")
    assert response.status_code == 401 and "revoked" in response.json()["error"]["message"]


def test_another_users_token_is_that_user_and_nothing_more(world: Any) -> None:
    w, tokens, _ = world
    outsider = w.client(tokens["outsider"])
    assert outsider.users.whoami().name == "otto"
    viewer_tokens = w.client(tokens["viewer"]).tokens.ls()
    assert _status(w, tokens["outsider"], "POST", f"/api/v1/tokens/{viewer_tokens[0].id}/revoke") == 404
    assert _status(w, tokens["outsider"], "GET", "/api/v1/tokens", params={"user": "vic"}) == 403
    assert w.client(tokens["viewer"]).users.whoami().name == "vic"  # untouched


def test_a_viewer_tries_every_editor_and_admin_operation(world: Any) -> None:
    w, tokens, run_id = world
    vic = tokens["viewer"]
    attempts = [
        ("PATCH", "/api/v1/projects/churn", {"json": {"description": "pwned"}}),
        ("POST", "/api/v1/projects/churn/roles", {"json": {"user": "vic", "role": "admin"}}),
        ("DELETE", "/api/v1/projects/churn/roles/eddie", {}),
        ("GET", "/api/v1/projects/churn/roles", {}),
        ("GET", "/api/v1/audit", {"params": {"project": "churn"}}),
        ("POST", "/api/v1/runs", {"json": {"project": "churn"}}),
        ("POST", f"/api/v1/runs/{run_id}/batch", {"json": {"params": {"depth": 9}}}),
        ("POST", f"/api/v1/runs/{run_id}/end", {"json": {}}),
        ("DELETE", f"/api/v1/runs/{run_id}", {}),
        ("PUT", f"/api/v1/runs/{run_id}/artifacts", {"params": {"path": "x.txt"}, "content": b"x"}),
        ("POST", "/api/v1/projects", {"json": {"name": "mine"}}),
        ("POST", "/api/v1/users", {"json": {"name": "sneaky", "admin": True}}),
        ("PATCH", "/api/v1/users/vic", {"json": {"admin": True}}),
        ("POST", "/api/v1/tokens", {"json": {"name": "t", "user": "eddie"}}),
        ("POST", "/api/v1/artifacts/gc", {"json": {}}),
    ]
    for method, url, kw in attempts:
        response = w.http(vic).request(method, url, **kw)
        assert response.status_code == 403, f"{method} {url}: {response.status_code} {response.text}"
    admin = w.client(w.admin_token)
    assert admin.projects.get("churn").description == ""
    assert {(b.user, b.role) for b in admin.roles.ls(project="churn")} >= {
        ("vic", "viewer"),
        ("eddie", "editor"),
    }
    run = admin.runs.get(run_id)
    assert run.params == {"depth": 6} and not run.deleted
    assert "sneaky" not in {u.name for u in admin.users.ls().items}
    # what a viewer may do, it can
    assert w.client(vic).runs.get(run_id).id == run_id


def test_an_outsider_cannot_see_a_project(world: Any) -> None:
    """A project the caller has no role on answers exactly as one that does not exist."""
    w, tokens, _ = world
    otto = w.http(tokens["outsider"])
    for name in ("churn", "secret"):
        for method, url, in_body in [
            ("GET", "/api/v1/projects/{}", False),
            ("POST", "/api/v1/runs/search", True),
            ("GET", "/api/v1/projects/{}/roles", False),
        ]:
            hidden = otto.request(method, url.format(name), **_named(in_body, name))
            missing = otto.request(method, url.format("ghost"), **_named(in_body, "ghost"))
            assert hidden.status_code == 404, f"{method} {url}: {hidden.status_code} {hidden.text}"
            assert hidden.json() == json.loads(missing.text.replace("ghost", name))
    assert w.client(tokens["outsider"]).projects.ls().items == []
    assert [p.name for p in w.client(tokens["viewer"]).projects.ls().items] == ["churn"]


def _named(in_body: bool, name: str) -> dict[str, Any]:
    return {"json": {"project": name}} if in_body else {}


def test_an_outsider_cannot_see_a_projects_runs_or_learn_its_name(world: Any) -> None:
    w, tokens, run_id = world
    otto = w.http(tokens["outsider"])
    for method, url, kw in [
        ("GET", f"/api/v1/runs/{run_id}", {}),
        ("GET", f"/api/v1/runs/{run_id}/artifacts/file", {"params": {"path": "model/weights.bin"}}),
        ("GET", f"/api/v1/runs/{run_id}/artifacts", {}),
        ("DELETE", f"/api/v1/runs/{run_id}", {}),
    ]:
        response = otto.request(method, url, **kw)
        assert response.status_code == 404, f"{method} {url}: {response.status_code} {response.text}"
        assert response.json()["error"]["message"].startswith("no run"), response.text
        assert "churn" not in response.text, f"{method} {url} names the project: {response.text}"
    assert not w.client(w.admin_token).runs.get(run_id).deleted


@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd", "a/../../b", "..", "a\\..\\b", "a\x00b"])
def test_path_traversal_in_artifact_routes_is_refused(world: Any, path: str) -> None:
    w, tokens, run_id = world
    editor = tokens["editor"]
    up = w.http(editor).put(f"/api/v1/runs/{run_id}/artifacts", params={"path": path}, content=b"evil")
    down = w.http(editor).get(f"/api/v1/runs/{run_id}/artifacts/file", params={"path": path})
    for response in (up, down):
        assert response.status_code == 422, f"{path!r}: {response.status_code} {response.text}"
        error = response.json()["error"]
        assert error["code"] == "invalid_input" and "artifact path " in error["message"]
    assert set(down.json()) == {"error"}  # an error body, no file contents
    assert [a.path for a in w.client(editor).runs.list_artifacts(run_id).items] == ["model/weights.bin"]


@pytest.mark.parametrize(
    "filter_",
    [
        "params.depth = '6'; DROP TABLE users; --",
        "params.depth = 6 or 1=1",
        "metrics.auc > 0 union select token_hash from api_tokens",
        "tags.x = '' OR '1'='1'",
        'params."depth" = 6',
        "attributes.project_id != ''",
    ],
)
def test_injection_through_the_run_filter_is_refused_or_harmless(world: Any, filter_: str) -> None:
    w, tokens, run_id = world
    response = w.http(tokens["viewer"]).post(
        "/api/v1/runs/search", json={"project": "churn", "filter": filter_}
    )
    assert response.status_code in (200, 422), f"{filter_!r}: {response.status_code} {response.text}"
    if response.status_code == 200:
        assert {r["id"] for r in response.json()["items"]} <= {run_id}
    admin = w.client(w.admin_token)
    assert {u.name for u in admin.users.ls().items} >= {"vic", "eddie", "otto", "root"}
    assert [p.name for p in admin.projects.ls().items] == ["churn", "secret"]
