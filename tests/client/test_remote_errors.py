"""Errors through REST: every class comes back as itself, and the SDK's one retry rule."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from keel.client.backends import MAX_RETRY_AFTER_S, RemoteBackend, retry_delay
from keel.client.client import ServiceProxy
from keel.context import Context, Service
from keel.core import errors
from keel.core.errors import KeelError, error_class, error_class_for_status, error_classes
from keel.core.operations import GLOBAL, Action, operation
from keel.core.settings import load_settings
from keel.server import create_app


class FailService(Service):
    """Raises the error class named by its code, in Keel's body and in an outside protocol's."""

    name = "fail"

    @operation("POST", "/api/v1/fail/{code}", action=Action.AUTHENTICATED, project=GLOBAL)
    def keel_style(
        self, code: str, message: str, hint: str | None = None, details: dict[str, Any] | None = None
    ) -> str:
        """Raise the class registered for ``code``."""
        raise error_class(code)(message, hint=hint, **(details or {}))

    @operation("POST", "/v2/models/{code}/infer", action=Action.PREDICT, project=GLOBAL, errors="oip")
    def oip_style(self, code: str, message: str) -> str:
        """Raise it through the Open Inference Protocol's ``{"error": "..."}`` body."""
        raise error_class(code)(message)


@pytest.fixture
def fail(tmp_path: Path) -> tuple[TestClient, Any]:
    app = create_app(
        Context(load_settings({"home": str(tmp_path)}, env={})), services=[FailService], auth=False
    )
    http = TestClient(app)
    return http, ServiceProxy(FailService, RemoteBackend("http://testserver", http=http, retries=0))


@pytest.mark.parametrize("cls", error_classes(), ids=lambda c: c.__name__)
def test_every_error_class_round_trips_through_rest(
    cls: type[KeelError], fail: tuple[TestClient, Any]
) -> None:
    http, proxy = fail
    raw = http.post(f"/api/v1/fail/{cls.code}", json={"message": "m", "hint": "h", "details": {"n": 1}})
    assert raw.status_code == cls.status
    with pytest.raises(KeelError) as caught:
        proxy.keel_style(
            cls.code, message=f"{cls.__name__} happened", hint="try this", details={"name": "x", "n": 2}
        )
    got = caught.value
    assert type(got) is cls
    assert (got.message, got.hint, got.details) == (
        f"{cls.__name__} happened",
        "try this",
        {"name": "x", "n": 2},
    )
    assert (got.code, got.status, got.exit_code, got.headline) == (
        cls.code,
        cls.status,
        cls.exit_code,
        cls.headline,
    )


@pytest.mark.parametrize("cls", error_classes(), ids=lambda c: c.__name__)
def test_an_outside_protocol_error_comes_back_as_its_status_class(
    cls: type[KeelError], fail: tuple[TestClient, Any]
) -> None:
    _, proxy = fail
    with pytest.raises(KeelError) as caught:
        proxy.oip_style(cls.code, message="went wrong")
    got = caught.value
    assert type(got) is error_class_for_status(cls.status) and got.message == "went wrong"
    assert got.status == cls.status or (cls.status == 400 and got.status == 422)


def test_openapi_documents_every_status_an_error_class_answers(fail: tuple[TestClient, Any]) -> None:
    http, _ = fail
    documented = http.get("/openapi.json").json()["paths"]["/api/v1/fail/{code}"]["post"]["responses"]
    for cls in error_classes():
        assert str(cls.status) in documented, cls.__name__
        assert cls.headline.lower() in documented[str(cls.status)]["description"].lower()


# -- retries ---------------------------------------------------------------------------------------


def _backend(handler: Callable[[httpx.Request], httpx.Response], retries: int = 4) -> tuple[Any, list[float]]:
    http = httpx.Client(base_url="http://keel.test", transport=httpx.MockTransport(handler))
    backend = RemoteBackend("http://keel.test", http=http, retries=retries)
    slept: list[float] = []
    backend.sleep = slept.append
    return ServiceProxy(FailService, backend), slept


def test_a_503_with_retry_after_is_retried_after_the_servers_wait() -> None:
    seen: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(1)
        if len(seen) < 3:
            body = {"error": {"code": "database_unavailable", "message": "pool timed out"}}
            return httpx.Response(503, json=body, headers={"Retry-After": "3"})
        return httpx.Response(200, json="ok")

    proxy, slept = _backend(handler)
    assert proxy.keel_style("x", message="m") == "ok"
    assert len(seen) == 3 and slept == [3.0, 3.0]


def test_retries_stop_after_the_setting_and_raise_the_servers_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"error": {"code": "database_unavailable", "message": "down"}})

    proxy, slept = _backend(handler, retries=2)
    with pytest.raises(errors.DatabaseUnavailable, match="down"):
        proxy.keel_style("x", message="m")
    assert slept == [0.4, 0.8]  # backoff doubles when the server names no wait


def test_refused_connections_are_retried_then_reported_unreachable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    proxy, slept = _backend(handler, retries=3)
    with pytest.raises(errors.ServerUnreachable, match=r"cannot reach the Keel server at http://keel\.test"):
        proxy.keel_style("x", message="m")
    assert slept == [0.4, 0.8, 1.6]


def test_caller_mistakes_and_lost_responses_are_not_retried() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if b"timeout" in request.content:
            raise httpx.ReadTimeout("slow", request=request)  # the server may have acted: never resend
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "no x"}})

    proxy, slept = _backend(handler)
    with pytest.raises(errors.NotFound):
        proxy.keel_style("x", message="m")
    with pytest.raises(errors.ServerUnreachable):
        proxy.keel_style("x", message="timeout")
    assert slept == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [("2.5", 2.5), ("0", 0.4), ("-5", 0.4), ("soon", 0.4), ("99999", MAX_RETRY_AFTER_S), (None, 0.4)],
)
def test_retry_after_is_read_as_seconds_and_capped(header: str | None, expected: float) -> None:
    response = httpx.Response(503, headers={"Retry-After": header} if header is not None else {})
    assert retry_delay(response, 0, retries=1, replayable=True) == expected
    assert retry_delay(response, 1, retries=1, replayable=True) is None
    assert retry_delay(response, 0, retries=1, replayable=False) is None  # a streamed body cannot be resent


def test_every_error_class_has_an_mlflow_code() -> None:
    from keel.server.errors import error_body

    for cls in error_classes():
        code = error_body(cls("m"), "mlflow")["error_code"]
        assert code != "INTERNAL_ERROR" or cls.status in (500, 507), cls.__name__
