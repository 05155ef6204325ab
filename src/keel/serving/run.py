"""Starting the model server: uvicorn on one deployment, one process per worker.

Each worker builds its own app (and loads the model itself) from the
environment, so ``--workers N`` needs no shared state: replicas are
stateless. uvloop and httptools are used when installed. asyncio (and
uvloop) set TCP_NODELAY on every accepted TCP socket, so a small answer is
never held back waiting for a delayed ACK, with one worker or several.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Final

from starlette.applications import Starlette

DEPLOYMENT_ENV: Final = "KEEL_SERVE_DEPLOYMENT"
POLL_ENV: Final = "KEEL_SERVE_POLL_S"
LOG_ENV: Final = "KEEL_SERVE_LOG"
BATCH_MAX_ENV: Final = "KEEL_SERVE_BATCH_MAX"
BATCH_WAIT_ENV: Final = "KEEL_SERVE_BATCH_WAIT_MS"


def app_from_env() -> Starlette:
    """The app for ``$KEEL_SERVE_DEPLOYMENT`` on the workspace the settings find (uvicorn's factory)."""
    from keel.context import Context
    from keel.core.settings import load_settings
    from keel.serving.app import create_app

    return create_app(
        Context(load_settings()),
        os.environ[DEPLOYMENT_ENV],
        poll_s=float(os.environ.get(POLL_ENV, "2")),
        log=os.environ.get(LOG_ENV, "1") != "0",
        batch_max=int(os.environ[BATCH_MAX_ENV]) if os.environ.get(BATCH_MAX_ENV) else None,
        batch_wait_ms=float(os.environ[BATCH_WAIT_ENV]) if os.environ.get(BATCH_WAIT_ENV) else None,
    )


def serve(
    name: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    poll_s: float = 2.0,
    log: bool = True,
    batch_max: int | None = None,
    batch_wait_ms: float | None = None,
) -> None:
    """Serve deployment ``name`` until interrupted (blocks); ``log=False`` turns the prediction log off.

    ``batch_max`` / ``batch_wait_ms`` (None: the deployment's settings) set micro-batching.
    """
    import uvicorn

    os.environ[DEPLOYMENT_ENV] = name
    os.environ[POLL_ENV] = str(poll_s)
    os.environ[LOG_ENV] = "1" if log else "0"
    for key, value in ((BATCH_MAX_ENV, batch_max), (BATCH_WAIT_ENV, batch_wait_ms)):
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = str(value)
    fast = (
        importlib.util.find_spec("uvloop") is not None and importlib.util.find_spec("httptools") is not None
    )
    uvicorn.run(
        "keel.serving.run:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop" if fast else "asyncio",
        http="httptools" if fast else "h11",
        access_log=False,
        log_level="warning",
    )
