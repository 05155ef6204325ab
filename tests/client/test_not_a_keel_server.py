"""The SDK pointed at a URL that is not a Keel server says so, naming the URL, with a hint (issue 10.11).

A plain ``http.server`` on 127.0.0.1 stands in for the wrong server: it answers 404 with
HTML, 200 with HTML, or a redirect to a login page. A real Keel server keeps its own errors.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from keel.client import Client, connect
from keel.client.backends import RemoteBackend
from keel.client.probe import not_a_keel_server
from keel.core.errors import ConfigError, NotFound


class _NotKeel(http.server.BaseHTTPRequestHandler):
    """Answers every request the same way: ``mode`` is 404, 200 or 302."""

    mode: ClassVar[int] = 404
    seen: ClassVar[list[str]] = []

    def _answer(self) -> None:
        self.seen.append(f"{self.command} {self.path}")
        self.send_response(self.mode)
        if self.mode == 302:
            self.send_header("Location", "/login")
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<html><body>nothing for Keel here</body></html>")

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def not_keel() -> Iterator[str]:
    _NotKeel.seen = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _NotKeel)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize(
    ("mode", "answer"),
    [(404, "answered 404"), (200, "answered 200 but not as Keel does"), (302, "answered 302")],
)
def test_the_sdk_names_a_url_that_is_not_a_keel_server(
    not_keel: str, monkeypatch: pytest.MonkeyPatch, mode: int, answer: str
) -> None:
    monkeypatch.setattr(_NotKeel, "mode", mode)
    client = connect(not_keel, token="keel_whatever")
    with pytest.raises(ConfigError) as caught:
        client.projects.ls()
    err = caught.value
    assert err.message == f"{not_keel} is not a Keel server (GET {not_keel}/api/v1/health {answer})"
    assert err.hint is not None and "KEEL_SERVER_URL" in err.hint and "keel server" in err.hint
    assert err.exit_code == 2 and "server answered" not in str(err)
    assert _NotKeel.seen[-1] == "GET /api/v1/health"  # the probe, asked only after the failed call


def test_a_write_to_a_url_that_is_not_keel_says_the_same(not_keel: str) -> None:
    client = connect(not_keel, token="keel_whatever")
    with pytest.raises(ConfigError, match="is not a Keel server"):
        client.projects.create(name="churn")


def test_the_probe_passes_a_real_keel_server(keel_server: Any) -> None:
    assert not_a_keel_server(keel_server.url) is None


def test_a_real_server_keeps_its_own_errors(keel_server: Any) -> None:
    client = connect(keel_server.url, token=keel_server.token)
    with pytest.raises(NotFound, match="no project named 'nosuch-project'"):
        client.projects.get(name="nosuch-project")


def test_nothing_listening_is_unreachable_not_misnamed() -> None:
    import socket

    from keel.core.errors import ServerUnreachable

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    client = Client(RemoteBackend(f"http://127.0.0.1:{port}", token="keel_whatever", retries=0))
    with pytest.raises(ServerUnreachable, match=f"cannot reach the Keel server at http://127.0.0.1:{port}"):
        client.projects.ls()


def test_a_server_error_is_not_taken_for_a_wrong_url(not_keel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 500 from the health route says nothing about whose server it is: the call's own error stands."""
    from keel.core.errors import KeelError

    monkeypatch.setattr(_NotKeel, "mode", 500)
    client = connect(not_keel, token="keel_whatever")
    with pytest.raises(KeelError) as caught:
        client.projects.ls()
    assert not isinstance(caught.value, ConfigError)
    assert caught.value.message.startswith(f"the server at {not_keel} answered 500 /api/v1/projects: <html>")
