"""Top-level commands: ``keel init``, ``keel server`` and ``keel quickstart``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from keel.cli import output
from keel.cli.state import STATE

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def init(
    path: Annotated[Path, typer.Argument(help="Folder to create .keel/ in.")] = Path("."),
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a Keel workspace (.keel/) here or in PATH, and its database.

    Example: keel init
    """
    from keel.sdk import create_local_workspace

    if path.exists() and not path.is_dir():
        from keel.core.errors import InvalidInput

        raise InvalidInput(f"{path} exists and is not a folder")
    made = create_local_workspace(path, STATE.overrides)
    s = made.settings
    if json_out:
        output.print_json(
            {
                "created": made.created,
                "home": str(s.home),
                "db_url": made.db_url,
                "schema_before": made.schema_before,
                "schema_after": made.schema_after,
                "project": s.project,
            }
        )
        return
    output.done(f"{'created' if made.created else 'found'} workspace {s.home}")
    if made.schema_before != made.schema_after:
        output.done(f"database {made.db_url} migrated to schema {made.schema_after}")
    else:
        output.done(f"database {made.db_url} at schema {made.schema_after}")
    output.done(f"current project: {s.project} (`keel project create NAME` makes a new one current)")
    output.line("git: .keel/.gitignore keeps config.toml and ignores the database and objects")
    output.line("next: keel project create NAME --kpi 'accuracy >= 0.9'")


def server(
    host: Annotated[
        str | None, typer.Option("--host", help="Address to listen on (setting server_host).")
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="Port to listen on (setting server_port).")
    ] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn log level.")] = "info",
    no_auth: Annotated[
        bool,
        typer.Option(
            "--no-auth",
            help="Let every caller act as the local admin; accepted only on a loopback address.",
        ),
    ] = False,
) -> None:
    """Serve the REST API (/api/v1/, spec at /openapi.json) for this workspace or KEEL_DB_URL.

    Callers sign in with API tokens (`keel user add`, `keel token create`);
    --no-auth is refused (exit 2) on any address other than loopback.

    Example: keel server --host 0.0.0.0 --port 5000
    """
    import logging

    import uvicorn

    from keel.auth.redact import install_redaction
    from keel.context import Context
    from keel.core.errors import DatabaseUnavailable, InvalidInput
    from keel.server import create_app

    overrides = dict(STATE.overrides)
    if host:
        overrides["server_host"] = host
    if port:
        overrides["server_port"] = port
    from keel.core.settings import load_settings

    s = load_settings(overrides)
    if no_auth and s.server_host not in LOOPBACK:
        raise InvalidInput(
            f"refusing --no-auth on {s.server_host}: without authentication anyone who reaches it is admin",
            hint="drop --no-auth (callers then need tokens), or listen on 127.0.0.1",
        )
    ctx = Context(s)
    users = None
    try:
        ctx.store.ensure_schema()
        if not no_auth:
            from keel.access.users import UserService

            users = UserService(ctx).ls(limit=1).items
    except DatabaseUnavailable as exc:
        output.line(f"warning: {exc.message}; answering 503 until it is back")
    app = create_app(ctx, auth=not no_auth)
    mode = "auth off: every caller is admin" if no_auth else "auth on: callers need tokens"
    output.console().print(
        f"Keel server on http://{s.server_host}:{s.server_port}  (API /api/v1/, spec /openapi.json, "
        f"database {ctx.store.safe_url}; {mode})",
        highlight=False,
    )
    if users == []:
        output.console().print(
            "no users yet: create the first admin here with `keel user add NAME --admin` "
            "(direct database access is single-user admin mode)",
            highlight=False,
        )
    # proxy_headers off: X-Forwarded-For is believed only from server_trusted_proxies (create_app)
    config = uvicorn.Config(
        app, host=s.server_host, port=int(s.server_port), log_level=log_level, proxy_headers=False
    )
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s: %(name)s: %(message)s"))
    keel_log = logging.getLogger("keel")
    keel_log.addHandler(handler)
    keel_log.propagate = False
    install_redaction("", "keel", "uvicorn", "uvicorn.error", "uvicorn.access")
    from keel.client import Client
    from keel.client.backends import InProcessBackend
    from keel.pipelines.worker import TriggerWorker

    # The one trigger worker of this server (issue 16.7): it runs queued firings as trigger:<id>.
    worker = TriggerWorker(ctx, lambda caller: Client(InProcessBackend(ctx, caller), s))
    worker.start()
    try:
        uvicorn.Server(config).run()
    finally:
        worker.stop()


def quickstart(
    directory: Annotated[Path, typer.Argument(help="Where to create the quickstart workspace.")] = Path(
        "keel-quickstart"
    ),
    rows: Annotated[int, typer.Option("--rows", help="Customers in the generated table.", min=100)] = 5000,
) -> None:
    """Run Keel's main job end to end on generated data, printing each step.

    Example: keel quickstart ./demo
    """
    from keel.quickstart import run_quickstart

    run_quickstart(directory, rows=rows, say=output.line)  # plain: no markup eats `keel[sklearn]`


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("server")(server)
    app.command("quickstart")(quickstart)
