"""``keel user``: the people and service accounts who sign in to a Keel server."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from keel.cli import output
from keel.cli.state import client

app = typer.Typer(
    help="Users of a Keel server (admins only).\n\nExample: keel user add alice --email alice@example.com",
    no_args_is_help=True,
)


def _row(u: Any) -> list[Any]:
    flags = [f for f, on in (("admin", u.is_admin), ("creates projects", u.can_create_projects)) if on]
    return [
        u.name,
        u.email or "",
        ", ".join(flags),
        "disabled" if u.disabled else "active",
        f"{u.created_at:%Y-%m-%d}",
    ]


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="User name: letters, digits, '-', '_', '.', '@'.")],
    email: Annotated[str | None, typer.Option("--email", help="The user's email address.")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Make the user a global admin.")] = False,
    can_create_projects: Annotated[
        bool, typer.Option("--can-create-projects", help="Let the user create projects.")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the user and token as JSON.")] = False,
) -> None:
    """Add a user and print its first API token, which is shown only this once.

    Example: keel user add ops --admin
    """
    created = client().users.add(name=name, email=email, admin=admin, can_create_projects=can_create_projects)
    if json_out:
        output.print_json(created)
        return
    output.done(f"added user {created.user.name}")
    output.secret("token (shown once, keep it secret)", created.secret)
    output.line("  use: KEEL_TOKEN=... KEEL_SERVER_URL=http://host:port keel ...   or: keel login URL")


@app.command("ls")
def ls(json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List users.

    Example: keel user ls --json
    """
    users = output.all_pages(client().users.ls)
    if json_out:
        output.print_json(users)
        return
    output.print_table(None, ["name", "email", "rights", "state", "created"], [_row(u) for u in users])


@app.command("edit")
def edit(
    name: Annotated[str, typer.Argument(help="User name.")],
    email: Annotated[str | None, typer.Option("--email", help="New email address.")] = None,
    admin: Annotated[
        bool | None, typer.Option("--admin/--no-admin", help="Grant or remove the global admin flag.")
    ] = None,
    can_create_projects: Annotated[
        bool | None,
        typer.Option("--can-create-projects/--no-create-projects", help="Allow or stop creating projects."),
    ] = None,
    disable: Annotated[
        bool | None,
        typer.Option(
            "--disable/--enable", help="Disable the user (its tokens stop within 5 s) or enable it."
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the user as JSON.")] = False,
) -> None:
    """Change a user's rights, or disable / enable it; removing the last admin is refused.

    Example: keel user edit bob --disable
    """
    user = client().users.edit(
        name=name, email=email, admin=admin, can_create_projects=can_create_projects, disabled=disable
    )
    if json_out:
        output.print_json(user)
    else:
        output.done(f"updated user {user.name}")


@app.command("whoami")
def whoami(json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Show who the server takes you to be.

    Example: keel user whoami
    """
    me = client().users.whoami()
    if json_out:
        output.print_json(me)
        return
    rights = ", ".join(
        r for r, on in (("admin", me.is_admin), ("creates projects", me.can_create_projects)) if on
    )
    output.console().print(f"{me.name}  {rights}  {' '.join(me.scopes)}".rstrip(), highlight=False)
