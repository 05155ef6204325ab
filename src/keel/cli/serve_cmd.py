"""``keel serve NAME``: the model server for one deployment (Open Inference Protocol v2 + MLflow scoring)."""

from __future__ import annotations

from typing import Annotated

import typer

from keel.cli.state import settings

#: Read by ``keel.cli.lazy_group``: this module is the command itself, not a group of commands.
SINGLE_COMMAND = True

app = typer.Typer(
    help="Serve a deployment over HTTP: /v2/models/{model}/infer (OIP v2) and /invocations (MLflow).\n\n"
    "Example: keel serve churn-prod --port 8080",
)


@app.command()
def serve(
    name: Annotated[str, typer.Argument(help="The deployment to serve (`keel deploy ls`).")],
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Processes, each with the model.")] = 1,
    poll_s: Annotated[
        float,
        typer.Option("--poll-s", help="Seconds between checks that the followed alias moved (0: never)."),
    ] = 2.0,
    log: Annotated[
        bool,
        typer.Option("--log/--no-log", help="Log each prediction (inputs, outputs, version, latency)."),
    ] = True,
    batch_max: Annotated[
        int | None,
        typer.Option(
            "--batch-max", min=1, help="Merge concurrent requests up to this many rows (1: never merge)."
        ),
    ] = None,
    batch_wait_ms: Annotated[
        float | None,
        typer.Option(
            "--batch-wait-ms", min=0, max=1000, help="How long a request waits for others to join it."
        ),
    ] = None,
) -> None:
    """Serve deployment NAME; every route but health needs a token (predict token, or project editor).

    Without --batch-max/--batch-wait-ms the deployment's settings decide (default: no merging).

    Example: keel serve churn-prod --port 8080 --workers 2 --batch-max 64 --batch-wait-ms 2
    """
    from keel.context import Context
    from keel.core.errors import InvalidInput
    from keel.registry.deployments import locate
    from keel.serving.run import serve as run

    s = settings()
    if s.server_url and not s.db_url:
        raise InvalidInput(
            "keel serve reads the registry directly: run it where the workspace is, or set KEEL_DB_URL"
        )
    locate(Context(s), name)  # an unknown deployment is an error here, not in each worker
    run(
        name,
        host=host,
        port=port,
        workers=workers,
        poll_s=poll_s,
        log=log,
        batch_max=batch_max,
        batch_wait_ms=batch_wait_ms,
    )
