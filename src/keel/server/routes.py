"""Deriving a FastAPI route from each operation: no route is written by hand.

Path fields come from the path template; the other inputs are query
parameters for GET and DELETE and a JSON body otherwise; a ByteStream input
is the raw request body, streamed into the service in constant memory.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any

import anyio
import anyio.from_thread
import anyio.to_thread
from fastapi import FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import ConfigDict, create_model

from keel.core.errors import DatabaseUnavailable, KeelError
from keel.core.operations import Action, Authorizer, ByteStream, Caller, Operation, invoke
from keel.server.errors import ERROR_RESPONSES, error_response, unexpected_response

Authenticate = Callable[[Request, Operation | None], Caller]
#: The security scheme (bearer API tokens) the spec declares for every non-public operation.
BEARER = "bearerToken"
#: Where the security middleware leaves the authenticated caller for the endpoint.
CALLER_KEY = "keel.caller"
#: Where it notes the (action, project) it already allowed, so invoke need not ask the database again.
AUTHORIZED_KEY = "keel.authorized"


class _Preauthorized:
    """The authorizer, minus the one check the security middleware already passed for this request."""

    def __init__(self, authorizer: Authorizer, done: object) -> None:
        self.authorizer = authorizer
        self.done = done

    def authorize(self, caller: Caller, action: Action, project: str | None) -> None:
        if self.done != (caller, action, project):
            self.authorizer.authorize(caller, action, project)


_QUERY_METHODS = {"GET", "DELETE", "HEAD"}


def _sync_chunks(stream: AsyncIterator[bytes]) -> Iterator[bytes]:
    """Pull an async request body from a worker thread, one chunk at a time."""

    async def next_chunk() -> bytes | None:
        try:
            return await stream.__anext__()
        except StopAsyncIteration:
            return None

    while True:
        chunk = anyio.from_thread.run(next_chunk)
        if chunk is None:
            return
        if chunk:
            yield chunk


def content_disposition(filename: str) -> str:
    """An attachment header for any file name (RFC 6266): an ASCII fallback plus ``filename*`` in UTF-8.

    Header values must be Latin-1 and a ``"`` would end the quoted name, so the
    plain ``filename`` keeps only printable ASCII other than ``"`` and ``\\``.
    """
    from urllib.parse import quote

    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in filename) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _respond(op: Operation, result: Any) -> Response:
    if isinstance(result, ByteStream):
        headers = {}
        if result.size is not None:
            headers["Content-Length"] = str(result.size)
        if result.filename:
            headers["Content-Disposition"] = content_disposition(result.filename)
        return StreamingResponse(iter(result), media_type=result.media_type, headers=headers)
    if op.status_code == 204:
        return Response(status_code=204)
    content = op.output_adapter().dump_python(result, mode="json")
    return JSONResponse(content, status_code=op.status_code)


def add_operation_route(
    app: FastAPI,
    service: Any,
    op: Operation,
    *,
    authorizer: Authorizer,
    authenticate: Authenticate,
) -> None:
    """Mount ``op`` on ``app`` with a signature FastAPI can describe in /openapi.json."""
    fields = op.input_model.model_fields
    path_names = set(op.path_params)
    params: list[inspect.Parameter] = [
        inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)
    ]
    body_fields: dict[str, Any] = {}
    for name, info in fields.items():
        annotation = info.annotation
        default = inspect.Parameter.empty if info.is_required() else info.default
        # the field's constraints (a pattern, 64-bit bounds) go along, so the spec states them
        constraints = tuple(info.metadata)
        if name in path_names:
            params.append(
                inspect.Parameter(
                    name,
                    inspect.Parameter.KEYWORD_ONLY,
                    annotation=Annotated[(annotation, *constraints, Path())],
                )
            )
        elif op.method in _QUERY_METHODS or op.stream_param is not None:
            params.append(
                inspect.Parameter(
                    name,
                    inspect.Parameter.KEYWORD_ONLY,
                    annotation=Annotated[(annotation, *constraints, Query())],
                    default=default,
                )
            )
        else:
            body_fields[name] = (annotation, info)
    if body_fields:
        body_model = create_model(
            op.input_model.__name__.removesuffix("Input") + "Body",
            __config__=ConfigDict(extra="forbid"),
            **body_fields,
        )
        params.append(inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=body_model))

    def arguments_of(kwargs: dict[str, Any]) -> dict[str, Any]:
        body = kwargs.pop("body", None)
        if body is not None:
            kwargs.update({k: getattr(body, k) for k in body_fields})
        return kwargs

    if op.stream_param is not None:

        async def endpoint(request: Request, **kwargs: Any) -> Response:
            try:
                caller = _caller(request, op, authenticate)
                checks = _Preauthorized(authorizer, request.scope.get(AUTHORIZED_KEY))
                arguments = arguments_of(kwargs)
                stream = ByteStream(
                    _sync_chunks(request.stream()),
                    media_type=request.headers.get("content-type", "application/octet-stream"),
                )
                result = await anyio.to_thread.run_sync(
                    lambda: invoke(op, service, arguments, caller=caller, authorizer=checks, body=stream)
                )
                return _respond(op, result)
            except KeelError as exc:
                return error_response(exc, op.errors)
            except Exception as exc:
                return _unexpected(exc, op)

    else:

        def endpoint(request: Request, **kwargs: Any) -> Response:  # type: ignore[misc]
            try:
                caller = _caller(request, op, authenticate)
                checks = _Preauthorized(authorizer, request.scope.get(AUTHORIZED_KEY))
                result = invoke(op, service, arguments_of(kwargs), caller=caller, authorizer=checks)
                return _respond(op, result)
            except KeelError as exc:
                return error_response(exc, op.errors)
            except Exception as exc:
                return _unexpected(exc, op)

    endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    endpoint.__name__ = op.name.replace(".", "_")
    openapi_extra: dict[str, Any] = {"x-keel-action": op.action.value}
    if op.action is not Action.PUBLIC:
        openapi_extra["security"] = [{BEARER: []}]
    if op.project.field:
        openapi_extra["x-keel-project-from"] = op.project.field
    if op.stream_param is not None:
        openapi_extra["requestBody"] = {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    app.add_api_route(
        op.path,
        endpoint,
        methods=[op.method],
        name=op.name,
        operation_id=op.name,
        summary=op.summary or None,
        description=op.description or None,
        tags=list(op.tags),
        status_code=op.status_code,
        response_model=None if op.streams_response or op.status_code == 204 else op.output,
        response_class=StreamingResponse if op.streams_response else JSONResponse,
        openapi_extra=openapi_extra,
        responses=ERROR_RESPONSES if op.errors == "keel" else None,
    )
    route = app.router.routes[-1]
    route.keel_errors = op.errors  # type: ignore[attr-defined]
    route.keel_op = op  # type: ignore[attr-defined]


def _caller(request: Request, op: Operation, authenticate: Authenticate) -> Caller:
    """The caller the security middleware established (or, without it, authenticate now)."""
    caller = request.scope.get(CALLER_KEY)
    return caller if isinstance(caller, Caller) else authenticate(request, op)


def _unexpected(exc: Exception, op: Operation) -> Response:
    """A database outage, a full pool or a statement past its limit is 503 (retry later); anything
    else unexpected is 500."""
    known = database_error(exc)
    if known is not None:
        return error_response(known, op.errors)
    return unexpected_response(exc, op.errors)


def database_error(exc: Exception) -> KeelError | None:
    """What an unexpected database error means for the caller: a 503 to retry, or None (a bug).

    The store already turns these into Keel errors inside its sessions; this
    catches the ones raised outside any (a raw connection, a pool checkout).
    """
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from keel.store.limits import current_timeout_s, is_statement_timeout, timed_out

    seconds = current_timeout_s()
    if seconds is not None and is_statement_timeout(exc):
        return timed_out(seconds)
    if isinstance(exc, OperationalError | PoolTimeout):
        return DatabaseUnavailable(f"database unavailable: {exc.__class__.__name__}")
    return None
