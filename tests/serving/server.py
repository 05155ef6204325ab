"""``keel serve`` on loopback for the serving tests: keel.testing's one ServerProcess, started as ``keel serve NAME``."""

from __future__ import annotations

from pathlib import Path

from keel.testing.fixtures import ServerProcess


def ServeProcess(home: Path, name: str, *args: str) -> ServerProcess:
    """``keel serve NAME *args`` on 127.0.0.1 and a free port, logging to ``serve.log`` in ``home``."""
    return ServerProcess.serve(home, name, *args)
