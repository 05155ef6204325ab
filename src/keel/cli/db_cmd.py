"""``keel db``: the metadata database's schema."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from keel.cli import output
from keel.cli.state import settings

if TYPE_CHECKING:
    from keel.store.engine import Store

app = typer.Typer(help="The metadata database.\n\nExample: keel db upgrade", no_args_is_help=True)


def _store() -> Store:
    from keel.core.errors import WorkspaceNotFound
    from keel.store.engine import Store

    s = settings()
    if not s.db_url:
        raise WorkspaceNotFound("no Keel workspace here; run `keel init`", hint="or set KEEL_DB_URL")
    return Store(s.db_url, busy_timeout_ms=s.db_busy_timeout_ms, check_schema=False)


@app.command("upgrade")
def upgrade() -> None:
    """Migrate the database to this Keel's schema.

    Example: keel db upgrade
    """
    from keel.store.migrate import upgrade_url

    s = settings()
    if not s.db_url:
        from keel.core.errors import WorkspaceNotFound

        raise WorkspaceNotFound("no Keel workspace here; run `keel init`", hint="or set KEEL_DB_URL")
    url, before, after = upgrade_url(s.db_url, busy_timeout_ms=s.db_busy_timeout_ms)
    if before == after:
        output.done(f"database {url} is up to date ({after})")
    else:
        output.done(f"migrated {url} from {before} to {after}")
    from keel.client import connect
    from keel.sdk import ensure_default_project

    if ensure_default_project(connect(settings=s)):  # the current project until one is chosen
        output.done("created project default (the current project until `keel project use NAME`)")


@app.command("status")
def status(json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Say whether the database schema is current; exit 1 if it needs `keel db upgrade`.

    Example: keel db status
    """
    from keel.store.engine import describe_revisions
    from keel.store.schema_version import HEAD_REVISIONS

    store = _store()
    current = store.schema_revisions()
    info = {
        "url": store.safe_url,
        "revisions": sorted(current),
        "heads": sorted(HEAD_REVISIONS),
        "current": current == HEAD_REVISIONS,
    }
    if json_out:
        output.print_json(info)
    else:
        state = "up to date" if info["current"] else "needs `keel db upgrade`"
        output.console().print(
            f"{info['url']}: schema {describe_revisions(current)} "
            f"(this Keel: {describe_revisions(HEAD_REVISIONS)}), {state}",
            highlight=False,
        )
    if not info["current"]:
        raise typer.Exit(1)
