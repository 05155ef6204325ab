"""``keel role``: who may read, write and administer a project."""

from __future__ import annotations

from typing import Annotated

import typer

from keel.cli import output
from keel.cli.state import client

app = typer.Typer(
    help="Roles on a project: viewer, editor, admin.\n\nExample: keel role grant alice editor --project churn",
    no_args_is_help=True,
)

ProjectOpt = Annotated[str, typer.Option("--project", "-p", help="The project.")]


@app.command("grant")
def grant(
    user: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Argument(help="viewer (read), editor (write) or admin (manage).")],
    project: ProjectOpt,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Give a user a role on a project (replacing the one it had there).

    Example: keel role grant bob viewer --project churn
    """
    binding = client().roles.grant(project=project, user=user, role=role)
    if json_out:
        output.print_json(binding)
        return
    output.done(f"{binding.user} is {binding.role} on {binding.project}")


@app.command("revoke")
def revoke(
    user: Annotated[str, typer.Argument(help="User name.")],
    project: ProjectOpt,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Take away a user's role on a project; the last admin cannot be removed.

    Example: keel role revoke bob --project churn
    """
    binding = client().roles.revoke(project=project, user=user)
    if json_out:
        output.print_json(binding)
        return
    output.done(f"{binding.user} no longer has a role on {binding.project}")


@app.command("ls")
def ls(
    project: ProjectOpt, json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
) -> None:
    """List who holds which role on a project.

    Example: keel role ls --project churn --json
    """
    bindings = client().roles.ls(project=project)
    if json_out:
        output.print_json(bindings)
        return
    output.print_table(
        None,
        ["user", "role", "granted by", "since"],
        [[b.user, b.role, b.granted_by, f"{b.created_at:%Y-%m-%d}"] for b in bindings],
    )
