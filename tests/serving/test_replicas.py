"""Replicas are stateless: two ``keel serve`` processes on one PostgreSQL and one S3 store.

Both answer, both follow the alias when it moves, and the segments each
writes read back as one prediction log. Needs ``KEEL_TEST_POSTGRES`` (CI
sets it) and moto for the loopback S3 endpoint; skipped with a reason
otherwise.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from keel.testing.contract.artifacts import s3_endpoint, s3_url  # noqa: F401 - fixtures
from keel.testing.fixtures import free_port

COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


class Replica:
    """One ``keel serve`` process with only environment variables for settings (as in a container)."""

    def __init__(self, folder: Path, name: str, env: dict[str, str]) -> None:
        folder.mkdir(parents=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / "serve.log"
        self.log = self.log_path.open("w")
        clean = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "keel.cli.main",
                "serve",
                name,
                "--port",
                str(self.port),
                "--poll-s",
                "0.3",
            ],
            env={**clean, **env},
            cwd=folder,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_live(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"keel serve exited: {self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/v2/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"keel serve did not become ready: {self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


@pytest.fixture
def shared(postgres_url: str, s3_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:  # noqa: F811
    from keel.client import Client
    from keel.client.backends import InProcessBackend
    from keel.context import Context
    from keel.core.operations import local_admin
    from keel.core.settings import load_settings

    settings = load_settings({"db_url": postgres_url, "artifacts_url": s3_url}, env={}, cwd=tmp_path)
    ctx = Context(settings)
    yield {"ctx": ctx, "admin": Client(InProcessBackend(ctx, caller=local_admin()))}


@pytest.mark.slow
def test_two_replicas_share_the_registry_swap_together_and_log_as_one(
    shared: dict[str, Any], package: Path, tmp_path: Path, unique: Callable[[str], str], postgres_url: str,
    s3_url: str,  # noqa: F811
) -> None:  # fmt: skip
    from keel.predictions.query import window
    from keel.sdk import register_model

    admin, project, name = shared["admin"], unique("churn"), unique("iris")
    admin.projects.create(name=project)
    for _ in range(2):
        register_model(package, "iris", project=project, client=admin)
    admin.models.set_alias(project=project, name="iris", alias="live", version=1)
    admin.deployments.create(project=project, name=name, model="iris@live", settings={"log_flush_s": 0.5})
    user = unique("svc")
    admin.users.add(name=user)
    token = admin.tokens.create(user=user, scope="predict", deployment=name).secret
    env = {"KEEL_DB_URL": postgres_url, "KEEL_ARTIFACTS_URL": s3_url}
    env.update({k: os.environ[k] for k in os.environ if k.startswith("AWS_")})
    replicas = [Replica(tmp_path / f"replica{i}", name, env) for i in range(2)]
    sent: list[str] = []

    def ask(replica: Replica, tag: str) -> str:
        body = {
            "id": tag,
            "inputs": [{"name": c, "shape": [1], "datatype": "FP64", "data": [1.0]} for c in COLUMNS],
        }
        answer = httpx.post(
            f"{replica.url}/v2/models/iris/infer",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        sent.append(tag)
        return str(answer.json()["model_version"])

    try:
        for replica in replicas:
            replica.wait_live()
        assert [ask(r, f"before-{i}") for i, r in enumerate(replicas)] == ["1", "1"]
        admin.models.set_alias(project=project, name="iris", alias="live", version=2)
        for i, replica in enumerate(replicas):
            deadline, n = time.monotonic() + 60, 0
            while ask(replica, f"after-{i}-{n}") != "2":
                assert time.monotonic() < deadline, f"replica {i} never swapped to version 2"
                n += 1
                time.sleep(0.2)
    finally:
        for replica in replicas:
            replica.stop()  # each flushes its own segments
    logged = window(shared["ctx"], name)
    assert sorted(logged.column("request_id").to_pylist()) == sorted(sent)
    assert set(logged.column("model_version").to_pylist()) == {1, 2}
