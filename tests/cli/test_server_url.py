"""A KEEL_SERVER_URL that is not a Keel server is bad configuration, exit 2 (issue 10.11)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest


class _NotKeel(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<html>nothing here</html>")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def not_keel() -> Iterator[str]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _NotKeel)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_web_server_that_is_not_keel_is_named_as_such(
    not_keel: str, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]
) -> None:
    monkeypatch.setenv("KEEL_SERVER_URL", not_keel)
    monkeypatch.setenv("KEEL_TOKEN", "keel_whatever")
    result = keel_cli("project", "ls")
    assert result.code == 2, result.err
    assert f"{not_keel} is not a Keel server" in result.err and "answered 404" in result.err
    assert "hint: set KEEL_SERVER_URL" in result.err


def test_a_real_server_keeps_its_own_errors(
    keel_server: Any, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]
) -> None:
    monkeypatch.setenv("KEEL_SERVER_URL", keel_server.url)
    monkeypatch.setenv("KEEL_TOKEN", keel_server.token)
    result = keel_cli("project", "show", "nosuch-project")
    assert result.code == 2 and "no project named 'nosuch-project'" in result.err
    assert "not a Keel server" not in result.err
