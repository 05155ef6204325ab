"""``keel token``: API tokens (shown once, stored hashed), for people and for serving."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from keel.cli import output
from keel.cli.state import client

app = typer.Typer(
    help="API tokens.\n\nExample: keel token create --user alice --name laptop --expires 30d",
    no_args_is_help=True,
)


def _when(value: Any) -> str:
    return "" if value is None else f"{value:%Y-%m-%d %H:%M}"


@app.command("create")
def create(
    name: Annotated[
        str | None, typer.Option("--name", help="What the token is for, e.g. laptop or ci.")
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="Whose token (admins); default: yourself.")
    ] = None,
    expires: Annotated[
        str | None, typer.Option("--expires", help="Lifetime such as 30d, 12h, 2w; default: never.")
    ] = None,
    scope: Annotated[
        str | None, typer.Option("--scope", help="'predict' for a serving token (admins only).")
    ] = None,
    deployment: Annotated[
        str | None, typer.Option("--deployment", help="The one deployment a predict token may call.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the token and its secret as JSON.")] = False,
) -> None:
    """Issue an API token and print its secret, which is shown only this once.

    Example: keel token create --user svc-frontend --scope predict --deployment churn-prod
    """
    issued = client().tokens.create(name=name, user=user, expires=expires, scope=scope, deployment=deployment)
    if json_out:
        output.print_json(issued)
        return
    t = issued.token
    output.done(
        f"token {t.id} ({t.name}) for {t.user}"
        + (f", expires {_when(t.expires_at)} UTC" if t.expires_at else "")
    )
    output.secret("secret (shown once, keep it secret)", issued.secret)


@app.command("ls")
def ls(
    user: Annotated[
        str | None,
        typer.Option("--user", help="One user's tokens (admins); default: yours, or all for admins."),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include revoked tokens.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List tokens (never their secrets), newest first.

    Example: keel token ls --user alice --json
    """
    tokens = client().tokens.ls(user=user, include_revoked=all_)
    if json_out:
        output.print_json(tokens)
        return
    output.print_table(
        None,
        ["id", "user", "name", "scope", "created", "expires", "last used", "revoked"],
        [
            [
                t.id,
                t.user,
                t.name,
                f"{t.scope}:{t.deployment}" if t.scope else "",
                _when(t.created_at),
                _when(t.expires_at),
                _when(t.last_used_at),
                _when(t.revoked_at),
            ]
            for t in tokens
        ],
        short_ids=("id",),
    )


@app.command("revoke")
def revoke(
    token_id: Annotated[
        str, typer.Argument(help="The token's id, or a unique prefix of it, as `keel token ls` shows it.")
    ],
    json_out: Annotated[bool, typer.Option("--json", help="Print the revoked token as JSON.")] = False,
) -> None:
    """Revoke a token; it stops working everywhere within 5 seconds.

    Example: keel token revoke 01JD2X3Y
    """
    t = client().tokens.revoke(token_id)
    if json_out:
        output.print_json(t)
        return
    output.done(f"revoked token {t.id} ({t.name}) of {t.user}")
