"""The two backends: services in this process, or a Keel server over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from keel.context import Context, Service
from keel.core.errors import KeelError, ServerUnreachable
from keel.core.operations import ByteStream, Caller, Operation, invoke, local_admin
from keel.core.version import __version__

if TYPE_CHECKING:
    import httpx


class Backend(Protocol):
    """Runs one operation with arguments (and a body, for streamed uploads)."""

    def call(
        self,
        service: type[Service],
        op: Operation,
        arguments: dict[str, Any],
        body: ByteStream | None,
    ) -> Any: ...


class LocalBackend:
    """Services in-process, on the workspace database, as the implicit local admin."""

    def __init__(self, ctx: Context, caller: Caller | None = None) -> None:
        self.ctx = ctx
        self.caller = caller or local_admin()
        self._services: dict[type[Service], Service] = {}

    def service(self, service_cls: type[Service]) -> Service:
        svc = self._services.get(service_cls)
        if svc is None:
            svc = self._services[service_cls] = service_cls(self.ctx)
        return svc

    def call(
        self,
        service: type[Service],
        op: Operation,
        arguments: dict[str, Any],
        body: ByteStream | None,
    ) -> Any:
        return invoke(
            op,
            self.service(service),
            arguments,
            caller=self.caller,
            authorizer=self.ctx.authorizer,
            body=body,
        )


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


class RemoteBackend:
    """A Keel server over HTTP. Retries what the server says is temporary (503) and refused connections."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        retries: int = 4,
        http: httpx.Client | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        headers = {"User-Agent": f"keel/{__version__}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if http is None:
            import httpx  # only remote clients pay for the HTTP stack

            http = httpx.Client(base_url=self.url, timeout=timeout)
        self.http = http
        self.http.headers.update(headers)
        self.retries = retries

    def _request(self, op: Operation, arguments: dict[str, Any], body: ByteStream | None) -> httpx.Request:
        plain = op.input_model.model_validate(arguments).model_dump(mode="json")
        path = op.path.format(**{p: quote(str(plain.pop(p)), safe="") for p in op.path_params})
        if op.stream_param is not None or op.method in ("GET", "DELETE", "HEAD"):
            params: list[tuple[str, Any]] = []
            for key, value in plain.items():
                if value is None:
                    continue
                for item in value if isinstance(value, list) else [value]:
                    params.append((key, _query_value(item)))
            content = None
            if body is not None:
                content = iter(body)
            return self.http.build_request(
                op.method,
                path,
                params=params,
                content=content,
                headers={"Content-Type": body.media_type} if body is not None else None,
            )
        return self.http.build_request(op.method, path, json=plain)

    def call(
        self,
        service: type[Service],
        op: Operation,
        arguments: dict[str, Any],
        body: ByteStream | None,
    ) -> Any:
        op.validate(arguments)  # bad input fails here, before any network
        attempt = 0
        while True:
            request = self._request(op, arguments, body)
            try:
                response = self.http.send(request, stream=op.streams_response)
            except Exception as exc:
                import httpx

                if not isinstance(exc, httpx.TransportError):
                    raise
                retry = isinstance(exc, httpx.ConnectError) and body is None
                if retry and attempt < self.retries:
                    attempt += 1
                    time.sleep(min(0.2 * 2**attempt, 2.0))
                    continue
                raise ServerUnreachable(
                    f"cannot reach the Keel server at {self.url}: {exc.__class__.__name__}: {exc}",
                    hint="check KEEL_SERVER_URL and that `keel server` is running",
                ) from None
            if response.status_code == 503 and attempt < self.retries and body is None:
                response.close()
                attempt += 1
                time.sleep(min(0.2 * 2**attempt, 2.0))
                continue
            break
        if response.status_code >= 400:
            response.read()
            raise self._error(op, response)
        if op.streams_response:
            return ByteStream(
                _iter_and_close(response),
                media_type=response.headers.get("content-type", "application/octet-stream"),
                size=int(response.headers["content-length"])
                if "content-length" in response.headers
                else None,
            )
        if response.status_code == 204:
            return None
        return op.output_adapter().validate_json(response.content)

    def _error(self, op: Operation, response: httpx.Response) -> KeelError:
        try:
            data = response.json()
        except ValueError:
            data = {}
        if op.errors == "keel" or isinstance(data.get("error"), dict):
            return KeelError.from_dict(data, response.status_code)
        message = data.get("error") or data.get("message") or response.text
        error = KeelError.from_dict({"error": {"code": _code_for(response.status_code), "message": message}})
        return error


def _code_for(status: int) -> str:
    return {
        401: "unauthenticated",
        403: "permission_denied",
        404: "not_found",
        409: "conflict",
        413: "payload_too_large",
        429: "too_many_requests",
        422: "invalid_input",
        400: "invalid_input",
        503: "database_unavailable",
    }.get(status, "internal")


def _iter_and_close(response: httpx.Response) -> Iterator[bytes]:
    try:
        yield from response.iter_bytes()
    finally:
        response.close()
