"""The Client: ``client.projects.create(...)`` and friends, the same locally and remotely."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from keel.client.backends import Backend, InProcessBackend, RemoteBackend
from keel.context import Context, Service
from keel.core.errors import InvalidInput
from keel.core.operations import ByteStream, Operation, operations_of
from keel.core.settings import Settings, load_settings
from keel.services import capabilities, is_capability, load_service

if TYPE_CHECKING:
    from keel.access import AuditService, RoleService, TokenService, UserService
    from keel.artifact_service import ArtifactService
    from keel.datasets.service import DataService
    from keel.monitoring.service import MonitorService
    from keel.pipelines.service import PipelineService
    from keel.predictions.service import PredictionService
    from keel.projects.service import ProjectService
    from keel.registry.deployments import DeploymentService
    from keel.registry.service import ModelService
    from keel.tracking.service import RunService
    from keel.validation.service import ValidationService


class ServiceProxy:
    """Stands in for a service: each operation becomes a method that runs on the backend.

    Each derived method carries its operation's real signature (without
    ``self``) and docstring, so ``help(client.projects.create)`` and editors
    show ``(name, description=...)``, not ``(*args, **kwargs)``; the client's
    attributes are typed as the service classes, so mypy checks the calls.
    """

    def __init__(self, service: type[Service], backend: Backend) -> None:
        self._service = service
        self._backend = backend
        self._ops = operations_of(service)
        self.__doc__ = service.__doc__

    def __getattr__(self, name: str) -> Callable[..., Any]:
        # Only reached on first use of an operation: bind it, then keep it on the instance.
        op = self._ops.get(name)
        if op is None:
            raise AttributeError(f"{self._service.name} has no operation {name!r}")
        call = self._bind(op)
        setattr(self, name, call)
        return call

    def __dir__(self) -> list[str]:
        return sorted(self._ops)

    def __repr__(self) -> str:
        return f"<{self._service.__name__} via {type(self._backend).__name__}>"

    def _bind(self, op: Operation) -> Callable[..., Any]:
        signature = inspect.signature(op.func)
        first = next(iter(signature.parameters))  # self

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                bound = signature.bind(None, *args, **kwargs)
            except TypeError as exc:
                raise InvalidInput(f"{op.name}: {exc}") from None
            arguments = dict(bound.arguments)
            arguments.pop(first)
            body = arguments.pop(op.stream_param, None) if op.stream_param else None
            if isinstance(body, bytes | bytearray | memoryview):  # whole bytes: one chunk, not ints
                body = ByteStream([bytes(body)], size=len(body))
            elif body is not None and not isinstance(body, ByteStream):
                body = ByteStream(body)  # any iterable of byte chunks
            return self._backend.call(self._service, op, arguments, body)

        call.__name__ = op.func.__name__
        call.__qualname__ = op.func.__qualname__
        call.__module__ = op.func.__module__
        call.__doc__ = op.func.__doc__
        call.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[p for name, p in signature.parameters.items() if name != first]
        )
        return call


S = TypeVar("S", bound=Service)


class Client:
    """Keel's SDK entry point. Build one with :func:`connect`."""

    projects: ProjectService
    artifacts: ArtifactService
    data: DataService
    users: UserService
    tokens: TokenService
    roles: RoleService
    audit: AuditService
    runs: RunService
    models: ModelService
    validation: ValidationService
    deployments: DeploymentService
    pipelines: PipelineService
    monitors: MonitorService
    predictions: PredictionService

    def __init__(self, backend: Backend, settings: Settings | None = None) -> None:
        self.backend = backend
        self.settings = settings

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes not set yet: load the capability on first use, then keep its proxy.
        if name.startswith("_") or not is_capability(name):
            raise AttributeError(f"'Client' has no attribute {name!r}")
        proxy = ServiceProxy(load_service(name), self.backend)
        setattr(self, name, proxy)
        return proxy

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *capabilities()})

    def service(self, service: type[S]) -> S:
        """A proxy for any service class, Keel's or a plugin's, typed as that class."""
        return cast(S, ServiceProxy(service, self.backend))

    @property
    def is_remote(self) -> bool:
        return isinstance(self.backend, RemoteBackend)


def connect(
    url: str | None = None,
    *,
    token: str | None = None,
    home: str | Path | None = None,
    db_url: str | None = None,
    settings: Settings | None = None,
) -> Client:
    """A Client for a server URL (remote) or the workspace found from here (local).

    With no arguments the settings decide: ``KEEL_SERVER_URL`` means remote,
    otherwise the local workspace (``KEEL_HOME`` or the nearest ``.keel/``).
    """
    if settings is None:
        settings = load_settings(
            {
                "server_url": url,
                "token": token,
                "home": str(home) if home else None,
                "db_url": db_url,
            }
        )
    if settings.server_url:
        backend: Backend = RemoteBackend(
            settings.server_url,
            token=settings.token,
            timeout=settings.http_timeout_s,
            retries=settings.http_retries,
        )
    else:
        backend = InProcessBackend(Context(settings))
    return Client(backend, settings)
