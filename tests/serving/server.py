"""A real ``keel serve`` process on loopback for the serving tests, stopped by its process id."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from keel.testing.fixtures import free_port


class ServeProcess:
    """``keel serve NAME`` on 127.0.0.1 and a free port, logging to ``serve.log`` in ``home``."""

    def __init__(self, home: Path, name: str, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.home = home
        env = {**os.environ, "KEEL_HOME": str(home)}
        for key in ("KEEL_SERVER_URL", "KEEL_TOKEN", "KEEL_DB_URL"):
            env.pop(key, None)
        self.log = open(home / "serve.log", "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "keel.cli.main", "serve", name, "--port", str(self.port), *args],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        self.log.flush()
        return (self.home / "serve.log").read_text()

    def wait_live(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"keel serve exited: {self.output()}")
            try:
                if httpx.get(f"{self.url}/v2/health/live", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"keel serve did not start: {self.output()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()
