"""``keel audit``: the append-only record of role changes, tokens, user changes and deletions."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from keel.cli import output
from keel.cli.state import client

app = typer.Typer(
    help="The audit log (admins).\n\nExample: keel audit ls --project churn --since 7d",
    no_args_is_help=True,
)


@app.command("ls")
def ls(
    project: Annotated[
        str | None, typer.Option("--project", "-p", help="One project's events (its admins may list them).")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only events this recent, e.g. 7d, 12h.")
    ] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="Only events by this user.")] = None,
    action: Annotated[
        str | None, typer.Option("--action", help="Only this kind, e.g. role.grant, token.revoke.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Most events to list.")] = 1000,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List audit events, newest first.

    Example: keel audit ls --project churn --since 7d --json
    """
    audit = client().audit
    events = output.all_pages(
        lambda **page: audit.ls(project=project, since=since, actor=actor, action=action, **page), limit
    )
    if json_out:
        output.print_json(events)
        return
    output.print_table(
        None,
        ["when (UTC)", "actor", "action", "target", "from", "details"],
        [
            [f"{e.at:%Y-%m-%d %H:%M:%S}", e.actor, e.action, e.target, e.address or "", json.dumps(e.details)]
            for e in events
        ],
    )
