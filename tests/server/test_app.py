"""The REST app: error bodies, 503 for an unavailable database (retried by clients), OpenAPI, health."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from keel.client.backends import RemoteBackend
from keel.client.client import ServiceProxy
from keel.context import Context
from keel.core.errors import DatabaseUnavailable
from keel.core.settings import load_settings
from keel.projects.service import ProjectService
from keel.server import create_app
from keel.testing.fixtures import new_workspace


@pytest.fixture
def http(tmp_path: Path) -> TestClient:
    return TestClient(create_app(Context(new_workspace(tmp_path)), auth=False))


def test_health_version_and_openapi(http: TestClient) -> None:
    assert http.get("/api/v1/health").json()["status"] == "ok"
    spec = http.get("/openapi.json").json()
    assert spec["paths"]["/api/v1/projects"]["post"]["operationId"] == "projects.create"
    assert "/api/v1/projects/{name}" in spec["paths"]


def test_rest_errors_are_json_4xx(http: TestClient) -> None:
    assert http.post("/api/v1/projects", json={"name": "churn", "kpis": ["auc >= 0.9"]}).status_code == 201
    dup = http.post("/api/v1/projects", json={"name": "churn"})
    assert dup.status_code == 409 and dup.json()["error"]["code"] == "already_exists"
    bad_kpi = http.post("/api/v1/projects", json={"name": "x", "kpis": ["auc >> 0.9"]})
    assert bad_kpi.status_code == 422 and "unknown comparator" in bad_kpi.json()["error"]["message"]
    bad_name = http.post("/api/v1/projects", json={"name": "../etc"})
    assert bad_name.status_code == 422 and "name" in bad_name.json()["error"]["message"]
    not_json = http.post("/api/v1/projects", content=b"{nope", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 422
    missing = http.get("/api/v1/projects/ghost")
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "no project named 'ghost'"
    assert http.get("/api/v1/projects", params={"limit": 0}).status_code == 422
    assert http.get("/api/v1/projects", params={"page_token": "garbage"}).status_code == 422
    assert http.delete("/api/v1/projects").status_code == 405


def test_unavailable_database_is_503_and_clients_retry(tmp_path: Path) -> None:
    settings = load_settings(
        {"db_url": "postgresql+psycopg://keel:pw@127.0.0.1:1/keel"}, env={}, cwd=tmp_path
    )
    app = create_app(Context(settings), auth=False)
    calls: list[int] = []

    http = TestClient(app)
    response = http.get("/api/v1/projects")
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert response.json()["error"]["code"] == "database_unavailable"
    assert "pw@" not in response.text

    def count(request: httpx.Request) -> None:
        calls.append(1)

    http.event_hooks["request"] = [count]
    projects: Any = ServiceProxy(ProjectService, RemoteBackend("http://testserver", http=http, retries=2))
    with pytest.raises(DatabaseUnavailable, match="cannot connect"):
        projects.ls()
    assert len(calls) == 3


def test_auth_is_on_unless_explicitly_turned_off(tmp_path: Path) -> None:
    settings = new_workspace(tmp_path)
    guarded = TestClient(create_app(Context(settings)))
    refused = guarded.get("/api/v1/projects")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthenticated"
    assert guarded.post("/api/v1/projects", json={"name": "churn"}).status_code == 401
    assert guarded.get("/api/v1/health").status_code == 200
    open_app = TestClient(create_app(Context(settings), auth=False))
    assert open_app.get("/api/v1/projects").json()["items"] == []  # nothing was created above
    assert open_app.get("/api/v1/whoami").json()["is_admin"] is True
