"""Operations are defined once, here-style, and everything else is derived.

A capability's service method decorated with :func:`operation` is the only
definition of an operation: its signature (typed, validated by a pydantic model
built from it), its HTTP method and path, the action it needs and how its
project is found from its inputs. The REST route (``keel.server``), the remote
SDK call (``keel.client``) and the local SDK call all come from that record,
and all go through :func:`invoke`, the single place where input validation and
the permission check happen.

Streams: a parameter annotated :class:`ByteStream` is the raw request body
(constant memory on both ends); a method returning :class:`ByteStream` answers
with a streamed body. Outside protocols (Open Inference Protocol, MLflow) keep
their own fixed paths and error bodies through ``errors=``.
"""

from __future__ import annotations

import contextvars
import getpass
import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final, Literal, Protocol, TypeVar, get_type_hints

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError, create_model

from keel.core.edge import edge_checked
from keel.core.errors import InvalidInput

ErrorStyle = Literal["keel", "oip", "mlflow"]
F = TypeVar("F", bound=Callable[..., Any])

_MARK: Final = "__keel_operation__"


class Action(StrEnum):
    """What an operation needs from its caller; ``keel.auth`` decides who has it."""

    PUBLIC = "public"  # health and version: anyone
    AUTHENTICATED = "authenticated"  # any signed-in caller (listing what they may see)
    READ = "read"  # project viewer
    WRITE = "write"  # project editor
    ADMIN = "admin"  # project admin
    CREATE_PROJECT = "create_project"  # global admin or can-create-projects
    GLOBAL_ADMIN = "global_admin"  # users, tokens, roles across projects
    PREDICT = "predict"  # a serving token's scope on one deployment


@dataclass(frozen=True)
class ProjectFrom:
    """How an operation's project is found from its inputs; ``field=None`` means global."""

    field: str | None

    def resolve(self, arguments: dict[str, Any]) -> str | None:
        if self.field is None:
            return None
        value = arguments.get(self.field)
        return None if value is None else str(value)


GLOBAL: Final = ProjectFrom(None)


def project_from(field_name: str) -> ProjectFrom:
    """The operation's project is named by the input field ``field_name``."""
    return ProjectFrom(field_name)


class ByteStream:
    """A body of bytes that flows through in chunks, never whole in memory."""

    def __init__(
        self,
        chunks: Iterable[bytes],
        *,
        media_type: str = "application/octet-stream",
        size: int | None = None,
        filename: str | None = None,
    ) -> None:
        self.chunks = chunks
        self.media_type = media_type
        self.size = size
        self.filename = filename

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.chunks)

    def read_all(self) -> bytes:
        """Join the chunks; for small bodies and tests only."""
        return b"".join(self.chunks)


@dataclass(frozen=True)
class Caller:
    """Who is calling: a user (or a serving token) as ``keel.auth`` established it."""

    name: str
    user_id: str | None = None
    is_admin: bool = False
    can_create_projects: bool = False
    token_id: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    address: str | None = None


def local_admin() -> Caller:
    """The implicit single user of a laptop workspace or a direct database URL."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError):
        name = "local"
    return Caller(name=name, is_admin=True, can_create_projects=True)


class Authorizer(Protocol):
    """The single place permissions plug in (``keel.auth`` implements it)."""

    def authorize(self, caller: Caller, action: Action, project: str | None) -> None:
        """Return if allowed; raise Unauthenticated, PermissionDenied or NotFound if not."""


_current_caller: contextvars.ContextVar[Caller | None] = contextvars.ContextVar("keel_caller", default=None)


def current_caller() -> Caller:
    """The caller of the operation running now (the local admin outside any operation)."""
    return _current_caller.get() or local_admin()


@dataclass(frozen=True)
class Operation:
    """The one record of an operation, from which every interface is derived."""

    name: str
    method: str
    path: str
    action: Action
    project: ProjectFrom
    func: Callable[..., Any]
    input_model: type[BaseModel]
    output: Any
    stream_param: str | None
    status_code: int
    errors: ErrorStyle
    summary: str
    description: str
    tags: tuple[str, ...]

    @property
    def streams_response(self) -> bool:
        return self.output is ByteStream

    @property
    def path_params(self) -> list[str]:
        import string

        return [f for _, f, _, _ in string.Formatter().parse(self.path) if f]

    def output_adapter(self) -> TypeAdapter[Any]:
        return _adapter(self.output)

    def validate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Validate raw arguments into typed ones; InvalidInput names each bad field."""
        return validate_arguments(self.input_model, arguments, self.name)


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(tp: Any) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(tp)
    if adapter is None:
        adapter = _ADAPTERS[tp] = TypeAdapter(tp)
    return adapter


def validate_arguments(model: type[BaseModel], arguments: dict[str, Any], what: str) -> dict[str, Any]:
    """Validate ``arguments`` with ``model``; raise InvalidInput naming every bad field."""
    try:
        validated = model.model_validate(arguments)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "input"
            problems.append(f"{where}: {err['msg']}")
        raise InvalidInput(f"invalid input to {what}: " + "; ".join(problems)) from None
    return {name: getattr(validated, name) for name in model.model_fields}


def operation(
    method: str,
    path: str,
    *,
    action: Action,
    project: ProjectFrom,
    status_code: int = 200,
    errors: ErrorStyle = "keel",
    tags: tuple[str, ...] = (),
) -> Callable[[F], F]:
    """Declare a service method as an operation.

    ``action`` and ``project`` are required: an operation that does not say
    what it needs and where its project comes from cannot be defined.
    """
    if not isinstance(action, Action):
        raise TypeError(f"operation {path}: action must be an Action, got {action!r}")
    if not isinstance(project, ProjectFrom):
        raise TypeError(f"operation {path}: project must be GLOBAL or project_from(field)")

    def mark(func: F) -> F:
        setattr(
            func,
            _MARK,
            {
                "method": method.upper(),
                "path": path,
                "action": action,
                "project": project,
                "status_code": status_code,
                "errors": errors,
                "tags": tags,
            },
        )
        return func

    return mark


def _build_operation(owner: type, attr: str, func: Callable[..., Any]) -> Operation:
    spec = getattr(func, _MARK)
    hints = get_type_hints(func, include_extras=True)
    signature = inspect.signature(func)
    fields: dict[str, Any] = {}
    stream_param = None
    for index, (name, param) in enumerate(signature.parameters.items()):
        if index == 0:  # self
            continue
        if param.kind not in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
            raise TypeError(f"{owner.__name__}.{attr}: *args/**kwargs are not allowed in operations")
        annotation = hints.get(name, Any)
        if annotation is ByteStream:
            stream_param = name
            continue
        default = ... if param.default is inspect.Parameter.empty else param.default
        # 64-bit ints, bounded free-form JSON (keel.core.edge)
        fields[name] = (edge_checked(annotation), default)
    prefix = getattr(owner, "name", owner.__name__.removesuffix("Service").lower())
    op_name = f"{prefix}.{attr}"
    model_name = "".join(part.capitalize() for part in op_name.replace(".", "_").split("_")) + "Input"
    input_model = create_model(
        model_name, __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=True), **fields
    )
    project: ProjectFrom = spec["project"]
    if project.field is not None and project.field not in fields:
        raise TypeError(f"{op_name}: project_from({project.field!r}) names no input field")
    doc = inspect.getdoc(func) or ""
    summary, _, description = doc.partition("\n")
    return Operation(
        name=op_name,
        method=spec["method"],
        path=spec["path"],
        action=spec["action"],
        project=project,
        func=func,
        input_model=input_model,
        output=hints.get("return", Any),
        stream_param=stream_param,
        status_code=spec["status_code"],
        errors=spec["errors"],
        summary=summary.strip(),
        description=description.strip(),
        tags=spec["tags"] or (prefix,),
    )


_CACHE: dict[type, dict[str, Operation]] = {}


def operations_of(service: type) -> dict[str, Operation]:
    """Every operation a service class defines, by method name (built once per class)."""
    cached = _CACHE.get(service)
    if cached is None:
        cached = {}
        for klass in reversed(service.__mro__):
            for attr, value in vars(klass).items():
                if callable(value) and hasattr(value, _MARK):
                    cached[attr] = _build_operation(service, attr, value)
        _CACHE[service] = cached
    return cached


def invoke(
    op: Operation,
    service: Any,
    arguments: dict[str, Any],
    *,
    caller: Caller,
    authorizer: Authorizer,
    body: ByteStream | None = None,
) -> Any:
    """Run an operation: validate inputs, check permission, then call the method.

    Every interface (local SDK, REST route, CLI through the SDK) ends here.
    """
    validated = op.validate(arguments)
    authorizer.authorize(caller, op.action, op.project.resolve(validated))
    if op.stream_param is not None:
        if body is None:
            raise InvalidInput(f"{op.name} needs a body of bytes")
        validated[op.stream_param] = body
    token = _current_caller.set(caller)
    try:
        return op.func(service, **validated)
    finally:
        _current_caller.reset(token)
