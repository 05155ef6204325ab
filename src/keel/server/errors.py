"""Turning KeelError into each protocol's error body.

Keel's own routes answer ``{"error": {"code", "message", "hint"?}}``; outside
protocols keep theirs: the Open Inference Protocol ``{"error": "..."}`` and
MLflow's ``{"error_code": "...", "message": "..."}``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from keel.core.errors import InvalidInput, KeelError, error_classes
from keel.core.operations import ErrorStyle

log = logging.getLogger("keel.server")


class ErrorDetail(BaseModel):
    """What went wrong: a stable code, a message naming the problem, maybe a hint."""

    code: str
    message: str
    hint: str | None = None
    details: dict[str, Any] | None = None


class ErrorBody(BaseModel):
    """Every Keel route's error body: ``{"error": {"code", "message", ...}}``."""

    error: ErrorDetail


def documented_errors() -> dict[int | str, dict[str, Any]]:
    """The error statuses a Keel route may answer, as declared in /openapi.json.

    Derived from the error classes (each carries its status and headline), so a
    class added to ``keel.core.errors`` is documented with no second table.
    """
    headlines: dict[int, list[str]] = {}
    for cls in error_classes():
        headlines.setdefault(cls.status, []).append(cls.headline)
    described = {status: "; ".join(names) for status, names in headlines.items()}
    return {
        status: {"model": ErrorBody, "description": what[:1].upper() + what[1:]}
        for status, what in sorted(described.items())
    }


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = documented_errors()

#: MLflow's own error vocabulary, by status: a translation into an outside protocol, not Keel's table.
_MLFLOW_CODES = {
    404: "RESOURCE_DOES_NOT_EXIST",
    409: "RESOURCE_ALREADY_EXISTS",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    422: "INVALID_PARAMETER_VALUE",
    400: "INVALID_PARAMETER_VALUE",
    413: "INVALID_PARAMETER_VALUE",
    429: "REQUEST_LIMIT_EXCEEDED",
    501: "NOT_IMPLEMENTED",
    502: "TEMPORARILY_UNAVAILABLE",
    503: "TEMPORARILY_UNAVAILABLE",
}  # any other status (500, 507) is INTERNAL_ERROR


def error_body(error: KeelError, style: ErrorStyle) -> dict[str, Any]:
    if style == "oip":
        return {"error": error.message}
    if style == "mlflow":
        return {
            "error_code": _MLFLOW_CODES.get(error.status, "INTERNAL_ERROR"),
            "message": error.message,
        }
    return error.to_dict()


def error_response(error: KeelError, style: ErrorStyle) -> JSONResponse:
    headers = {"Retry-After": "1"} if error.retryable else None
    return JSONResponse(error_body(error, style), status_code=error.status, headers=headers)


def unexpected_response(exc: BaseException, style: ErrorStyle) -> JSONResponse:
    """A bug: log it whole, tell the caller only that it happened."""
    log.error("internal error", exc_info=exc)
    return error_response(KeelError("internal server error; see the server log"), style)


def validation_message(errors: list[Any]) -> InvalidInput:
    problems = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        problems.append(f"{'.'.join(loc) or 'body'}: {err.get('msg', 'invalid')}")
    return InvalidInput("invalid request: " + "; ".join(problems))
