"""Pytest fixtures: fresh workspaces, a PostgreSQL database, a real server, and clients for each backend.

Fixtures are factories with fresh state (``make_keel(**overrides)``); the
server and PostgreSQL database are started once per session and torn down by
process id / ``DROP DATABASE`` at the end.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from keel.client import Client, connect
from keel.core.settings import load_settings
from keel.core.workspace import create_workspace
from keel.store.migrate import upgrade_url

POSTGRES_ENV = "KEEL_TEST_POSTGRES"
BACKENDS = ("sqlite", "postgres", "remote")


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def new_workspace(root: Path, **overrides: Any) -> Any:
    """A migrated workspace under ``root``; returns its settings."""
    home, _ = create_workspace(root)
    settings = load_settings({"home": str(home), **overrides}, env={})
    upgrade_url(settings.require_db_url())
    return settings


@pytest.fixture
def make_keel(tmp_path: Path) -> Callable[..., Client]:
    """Factory: ``make_keel(**setting_overrides)`` -> a local Client on a fresh workspace."""
    counter = iter(range(1_000_000))

    def make(**overrides: Any) -> Client:
        settings = new_workspace(tmp_path / f"ws{next(counter)}", **overrides)
        return connect(settings=settings)

    return make


@pytest.fixture
def keel_workspace(tmp_path: Path) -> Any:
    """Settings of a fresh, migrated local workspace."""
    return new_workspace(tmp_path / "ws")


def _admin_postgres_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database (unique name) for this session, dropped afterwards."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set: no PostgreSQL to test against (CI sets it)")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"keel_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_admin_postgres_url(base), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - CI must have PostgreSQL
        admin.dispose()
        pytest.fail(f"{POSTGRES_ENV}={base} is set but PostgreSQL is not usable: {exc}")
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_url(url)
        yield url
    finally:
        from keel.store.engine import _STORES

        for key, store in list(_STORES.items()):
            if key[0] == url:
                store.dispose()
                del _STORES[key]
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def admin_token(settings: Any, name: str = "admin") -> str:
    """Add a global admin to the workspace of ``settings`` (direct database = single-user admin mode)."""
    return str(connect(settings=settings).users.add(name=name, admin=True).secret)


class ServerProcess:
    """A real Keel process on loopback (``keel server``, or ``keel serve NAME``), stopped by its process id.

    The one helper every test that needs a real process uses: it picks a free
    port, clears the client variables that would point the process elsewhere,
    logs to a file in ``home`` and waits on the process's health route.
    ``ServerProcess(home)`` is ``keel server``; :meth:`serve` is ``keel serve``.
    """

    def __init__(
        self,
        home: Path,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
        token: str | None = None,
        *,
        command: Sequence[str] = ("server", "--log-level", "warning"),
        ready_path: str = "/api/v1/health",
        log_name: str = "server.log",
    ) -> None:
        self.port = free_port()
        #: An admin's API token for this server (auth is on unless args hold --no-auth).
        self.token = token
        self.url = f"http://127.0.0.1:{self.port}"
        self.home = home
        self.ready_path = ready_path
        self.log_path = home / log_name
        self.what = f"keel {command[0]}"
        full_env = {**os.environ, "KEEL_HOME": str(home), **(env or {})}
        for key in ("KEEL_SERVER_URL", "KEEL_TOKEN", "KEEL_DB_URL"):
            if key not in (env or {}):
                full_env.pop(key, None)
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "keel.cli.main", *command, "--port", str(self.port), *(args or [])],
            env=full_env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @classmethod
    def serve(cls, home: Path, name: str, *args: str, env: dict[str, str] | None = None) -> ServerProcess:
        """``keel serve NAME *args``: a model server, ready once ``/v2/health/live`` answers."""
        return cls(
            home, env, list(args), command=("serve", name), ready_path="/v2/health/live", log_name="serve.log"
        )

    def output(self) -> str:
        """What the process has logged so far."""
        self.log.flush()
        return self.log_path.read_text()

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Return once the health route answers 200; RuntimeError with the log if the process exits or never does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.what} exited: {self.output()}")
            try:
                if httpx.get(f"{self.url}{self.ready_path}", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.what} did not start: {self.output()}")

    def wait_live(self, timeout: float = 60.0) -> None:
        """:meth:`wait_ready` under the name the serving protocol gives it (``/v2/health/live``)."""
        self.wait_ready(timeout)

    def stop(self) -> None:
        """SIGTERM by pid, SIGKILL after 10 s; closes the log."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


@pytest.fixture(scope="session")
def keel_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A real ``keel server`` on a fresh workspace, for the whole session, with auth on.

    ``keel_server.token`` is a global admin's token (user ``admin``), made
    through the workspace database before the server starts, as an operator would.
    """
    settings = new_workspace(tmp_path_factory.mktemp("server"))
    token = admin_token(settings)
    server = ServerProcess(Path(settings.home), token=token)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(params=BACKENDS)
def keel_client(request: pytest.FixtureRequest, tmp_path: Path) -> Client:
    """A Client on each backend in turn: local SQLite, local PostgreSQL, remote server."""
    if request.param == "sqlite":
        return connect(settings=new_workspace(tmp_path / "ws"))
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        return connect(settings=load_settings({"db_url": url}, env={}, cwd=tmp_path))
    server = request.getfixturevalue("keel_server")
    return connect(
        settings=load_settings({"server_url": server.url, "token": server.token}, env={}, cwd=tmp_path)
    )


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Names no other test (or earlier run on a shared backend) uses: ``unique("churn")``."""
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:10]}"
