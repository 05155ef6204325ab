"""The two backends: :class:`InProcessBackend` (the services in this process) or :class:`RemoteBackend` (a Keel server over HTTP)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Final, Protocol
from urllib.parse import quote

from keel.client.probe import not_a_keel_server
from keel.context import Context, Service
from keel.core.errors import KeelError, ServerUnreachable, error_class_for_status
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


class InProcessBackend:
    """The services run in this process, on the database the settings name, as ``caller`` (the local admin by default).

    Named for where the work happens, not for the database: the workspace's
    SQLite file and a PostgreSQL URL are both in-process (single-user admin
    mode); only :class:`RemoteBackend` goes through a server.
    """

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

    def sees_every_row(self) -> bool:
        """Whether this caller sees every row, so reading the database directly answers as an operation would.

        True for a laptop workspace's implicit admin with no per-project roles
        (no authorizer that narrows ``visible_projects``); the data SDK's fast
        paths (status, an unchanged add) read the SQLite file only then.
        """
        return self.caller.is_admin and not hasattr(self.ctx.authorizer, "visible_projects")


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
        #: How the backend waits between attempts; tests replace it to record the delays.
        self.sleep: Callable[[float], None] = time.sleep

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

    def _attempt(
        self, op: Operation, arguments: dict[str, Any], body: ByteStream | None
    ) -> httpx.Response | httpx.TransportError:
        """Send once: the response, or the transport error that kept it from arriving."""
        request = self._request(op, arguments, body)
        try:
            return self.http.send(request, stream=op.streams_response)
        except Exception as exc:
            import httpx

            if isinstance(exc, httpx.TransportError):
                return exc
            raise

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
            outcome = self._attempt(op, arguments, body)
            delay = retry_delay(outcome, attempt, retries=self.retries, replayable=body is None)
            if delay is None:
                break
            if not isinstance(outcome, BaseException):
                outcome.close()
            attempt += 1
            self.sleep(delay)
        if isinstance(outcome, BaseException):
            raise ServerUnreachable(
                f"cannot reach the Keel server at {self.url}: {outcome.__class__.__name__}: {outcome}",
                hint="check KEEL_SERVER_URL and that `keel server` is running",
            ) from None
        response = outcome
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
        try:
            return op.output_adapter().validate_json(response.content)
        except ValueError:  # pydantic's ValidationError too: not the JSON this operation answers
            raise self._not_keel(response) from None

    def _error(self, op: Operation, response: httpx.Response) -> KeelError:
        try:
            data = response.json()
        except ValueError:
            data = {}
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            return KeelError.from_dict(data, response.status_code)
        if op.errors == "keel":  # every Keel error is {"error": {...}}: this answer came from elsewhere
            return self._not_keel(response)
        if not isinstance(data, dict):
            data = {}
        message = data.get("error") or data.get("message") or response.text
        return error_class_for_status(response.status_code)(str(message))

    def _not_keel(self, response: httpx.Response) -> KeelError:
        """The error for an answer no Keel server gives: the URL is wrong, or something stands in between.

        Asks the health route: a non-Keel server gets a ConfigError naming the
        URL with a hint; a Keel server behind a proxy that answered for it gets
        the status's error class with what was answered.
        """
        wrong = not_a_keel_server(self.url, self.http)
        if wrong is not None:
            return wrong
        text = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
        return error_class_for_status(response.status_code)(
            f"the server at {self.url} answered {response.status_code} {response.request.url.path}"
            + (f": {text}" if text else "")
        )


#: The longest a server's ``Retry-After`` may hold one retry back, in seconds.
MAX_RETRY_AFTER_S: Final = 10.0


def retry_delay(
    outcome: httpx.Response | BaseException, attempt: int, *, retries: int, replayable: bool
) -> float | None:
    """Seconds to wait before sending again, or None to stop: the SDK's one retry rule.

    Retried, while attempts remain and the body can be sent again: a refused
    connection (nothing reached the server) and a 503 (the server says the
    trouble is temporary: a database outage, a full connection pool). The
    wait doubles from 0.4 s to at most 2 s; a 503's ``Retry-After``, when
    longer, wins, up to :data:`MAX_RETRY_AFTER_S`.
    """
    if attempt >= retries or not replayable:
        return None
    backoff = min(0.2 * 2.0 ** (attempt + 1), 2.0)
    if isinstance(outcome, BaseException):
        import httpx

        return backoff if isinstance(outcome, httpx.ConnectError) else None
    if outcome.status_code != 503:
        return None
    return max(backoff, _retry_after_s(outcome.headers.get("retry-after")))


def _retry_after_s(value: str | None) -> float:
    """A ``Retry-After`` header (seconds or an HTTP date) in seconds from now; 0 when absent or unreadable."""
    if not value:
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return 0.0
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def _iter_and_close(response: httpx.Response) -> Iterator[bytes]:
    try:
        yield from response.iter_bytes()
    finally:
        response.close()
