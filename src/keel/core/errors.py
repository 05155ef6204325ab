"""One error tree for everything Keel raises on purpose.

Each class declares its consequences once -- a stable ``code``, the HTTP
``status`` the server answers with, and the ``exit_code`` the CLI ends with --
so the server and the CLI map errors without ``isinstance`` ladders, and the
remote client rebuilds the very class from the JSON body's ``code``.

Exit codes: 1 a check failed, 2 bad usage or input, 3 internal error.
"""

from __future__ import annotations

from typing import Any, ClassVar


class KeelError(Exception):
    """Root of every error Keel raises on purpose."""

    code: ClassVar[str] = "internal"
    status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 3
    headline: ClassVar[str] = "internal error"
    retryable: ClassVar[bool] = False
    #: Declared True in a class's own body: this class is what a bare HTTP ``status`` rebuilds to
    #: when a body names no Keel code (an outside protocol's error body, a proxy's error page).
    #: At most one class per status; see :func:`error_class_for_status`.
    stands_for_status: ClassVar[bool] = False

    _by_code: ClassVar[dict[str, type[KeelError]]] = {}

    def __init__(self, message: str, *, hint: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" in cls.__dict__:
            KeelError._by_code[cls.code] = cls

    def one_line(self) -> str:
        """The class's headline, then the message (``not found: no project named 'x'``), as the CLI prints it.

        A message that already opens with the headline is not repeated.
        """
        if self.message.lower().startswith(self.headline.lower()):
            return self.message
        return f"{self.headline}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON error body: ``{"error": {"code", "message", "hint"?, "details"?}}``."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.hint:
            body["hint"] = self.hint
        if self.details:
            body["details"] = self.details
        return {"error": body}

    @classmethod
    def from_dict(cls, body: dict[str, Any], status: int | None = None) -> KeelError:
        """Rebuild the error a server raised from its JSON body."""
        err = body.get("error", {}) if isinstance(body, dict) else {}
        code = str(err.get("code", "internal"))
        klass = KeelError._by_code.get(code)
        if klass is None:
            klass = KeelError
        message = str(err.get("message", f"server answered {status}"))
        details = err.get("details") or {}
        instance = klass.__new__(klass)
        KeelError.__init__(instance, message, hint=err.get("hint"), **details)
        return instance


KeelError._by_code["internal"] = KeelError


class InvalidInput(KeelError):
    """The caller sent something malformed: a field, an expression, a value."""

    code = "invalid_input"
    status = 422
    exit_code = 2
    headline = "invalid input"
    stands_for_status = True


class NotFound(KeelError):
    """The named object does not exist (or the caller may not see it)."""

    code = "not_found"
    status = 404
    exit_code = 2
    headline = "not found"
    stands_for_status = True


class AlreadyExists(KeelError):
    """An object with this name or key exists already."""

    code = "already_exists"
    status = 409
    exit_code = 2
    headline = "already exists"


class Conflict(KeelError):
    """The request contradicts the object's current state."""

    code = "conflict"
    status = 409
    exit_code = 2
    headline = "conflict"
    stands_for_status = True


class Unauthenticated(KeelError):
    """No valid credentials were presented."""

    code = "unauthenticated"
    status = 401
    exit_code = 2
    headline = "not signed in"
    stands_for_status = True


class PermissionDenied(KeelError):
    """The caller is known but lacks the role this operation needs."""

    code = "permission_denied"
    status = 403
    exit_code = 2
    headline = "permission denied"
    stands_for_status = True


class WorkspaceNotFound(KeelError):
    """A command needs local state but no ``.keel/`` was found."""

    code = "no_workspace"
    status = 400
    exit_code = 2
    headline = "no Keel workspace here"


class ConfigError(KeelError):
    """A setting holds a value Keel cannot use."""

    code = "config_error"
    status = 400
    exit_code = 2
    headline = "bad configuration"


class MissingExtra(KeelError):
    """An optional dependency is needed but not installed."""

    code = "missing_extra"
    status = 501
    exit_code = 2
    headline = "missing optional dependency"


class DatabaseUnavailable(KeelError):
    """The metadata database cannot be reached; clients retry."""

    code = "database_unavailable"
    status = 503
    exit_code = 2
    headline = "database unavailable"
    stands_for_status = True
    retryable = True


class DatabaseOutOfDate(KeelError):
    """The database schema is older (or newer) than this Keel expects."""

    code = "database_out_of_date"
    status = 503
    exit_code = 2
    headline = "database schema out of date"


class ServerUnreachable(KeelError):
    """The Keel server named by ``KEEL_SERVER_URL`` did not answer."""

    code = "server_unreachable"
    status = 503
    exit_code = 2
    headline = "server unreachable"
    retryable = True


class PayloadTooLarge(KeelError):
    """A request body exceeded the server's limit."""

    code = "payload_too_large"
    status = 413
    exit_code = 2
    headline = "payload too large"
    stands_for_status = True


class CheckFailed(KeelError):
    """A validation, gate or drift check ran and did not pass."""

    code = "check_failed"
    status = 422
    exit_code = 1
    headline = "check failed"


def error_class(code: str) -> type[KeelError]:
    """The error class registered for ``code`` (``KeelError`` if unknown)."""
    return KeelError._by_code.get(code, KeelError)


def error_classes() -> tuple[type[KeelError], ...]:
    """Every registered error class, the root first, in the order they were defined.

    The server's documented error statuses and the client's status fallback are
    derived from this, so a new class needs no second table.
    """
    return tuple(dict.fromkeys(KeelError._by_code.values()))


def error_class_for_status(status: int) -> type[KeelError]:
    """The class a bare HTTP ``status`` rebuilds to, when the body names no Keel code.

    The class that declares ``stands_for_status = True`` in its own body for that
    status; a subclass does not inherit the claim. Any other 4xx is the caller's
    mistake (``InvalidInput``), anything else the root ``KeelError``.
    """
    for cls in error_classes():
        if cls.status == status and cls.__dict__.get("stands_for_status", False):
            return cls
    return InvalidInput if 400 <= status < 500 else KeelError


class StorageFull(KeelError):
    """The artifact store ran out of space (or quota) while writing; nothing half-written is kept."""

    code = "storage_full"
    status = 507
    exit_code = 2
    headline = "storage full"
    stands_for_status = True


class CorruptObject(KeelError):
    """A stored object's bytes no longer match its digest (found by a read that verifies, or fsck)."""

    code = "corrupt_object"
    status = 500
    exit_code = 1
    headline = "corrupt object"


class RemoteUnavailable(KeelError):
    """An artifact remote (a folder, S3 bucket, other fsspec URL) could not be used; says which and why."""

    code = "remote_unavailable"
    status = 502
    exit_code = 2
    headline = "remote unavailable"
    stands_for_status = True
    retryable = True


class TooManyRequests(KeelError):
    """A client made too many failed attempts (sign-ins, say) and must wait."""

    code = "too_many_requests"
    status = 429
    exit_code = 2
    headline = "too many requests"
    stands_for_status = True


class NotSupportedRemotely(KeelError):
    """A call that needs a local workspace (its files, its named remotes) was made through a server client."""

    code = "not_supported_remotely"
    status = 501
    exit_code = 2
    headline = "not available through a server"
    stands_for_status = True


class StatementTimeout(KeelError):
    """A database statement ran past the server's per-request limit (``db_statement_timeout_s``) and was cancelled."""

    code = "statement_timeout"
    status = 503
    exit_code = 2
    headline = "statement timeout"
    retryable = True


class UnsafeTree(InvalidInput):
    """A model's tree whose node storage would make ``predict`` read out of bounds or never end (``keel.models``)."""

    code = "unsafe_model"
    headline = "unsafe model"


class StepFailed(CheckFailed):
    """A pipeline step raised or returned the wrong type; the pipeline stopped there (exit 1)."""

    code = "step_failed"
    headline = "pipeline failed"
