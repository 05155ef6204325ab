"""Streamed routes: file names any caller may choose in headers, and a database outage as 503."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from keel.artifact_service.service import ArtifactService
from keel.context import Context
from keel.core.operations import ByteStream
from keel.server import create_app
from keel.server.routes import _respond
from keel.testing.fixtures import new_workspace


@pytest.mark.parametrize("name", ['résumé "final".csv', "数据.bin", "a\\b\r\nX-Evil: 1.txt", "plain.bin"])
def test_content_disposition_survives_any_file_name(name: str) -> None:
    response = _respond(None, ByteStream([b"x"], filename=name))  # type: ignore[arg-type]
    header = response.headers["content-disposition"]
    assert header.isascii() and "\r" not in header and "\n" not in header
    plain, _, encoded = header.partition("; filename*=UTF-8''")
    assert plain.startswith('attachment; filename="') and plain.count('"') == 2
    assert unquote(encoded) == name


def test_a_database_outage_in_a_streamed_upload_is_503(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    def down(self: Any, project: str) -> str:
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(ArtifactService, "_project_id", down)
    http = TestClient(create_app(Context(new_workspace(tmp_path)), auth=False))
    response = http.post("/api/v1/projects/p/artifacts", content=b"bytes")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"
