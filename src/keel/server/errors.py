"""Turning KeelError into each protocol's error body.

Keel's own routes answer ``{"error": {"code", "message", "hint"?}}``; outside
protocols keep theirs: the Open Inference Protocol ``{"error": "..."}`` and
MLflow's ``{"error_code": "...", "message": "..."}``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi.responses import JSONResponse

from keel.core.errors import InvalidInput, KeelError
from keel.core.operations import ErrorStyle

log = logging.getLogger("keel.server")

_MLFLOW_CODES = {
    404: "RESOURCE_DOES_NOT_EXIST",
    409: "RESOURCE_ALREADY_EXISTS",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    422: "INVALID_PARAMETER_VALUE",
    400: "INVALID_PARAMETER_VALUE",
    503: "TEMPORARILY_UNAVAILABLE",
}


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
