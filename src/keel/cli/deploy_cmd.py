"""``keel deploy``: deployments from the shell; each command calls the same operation as the SDK."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from keel.cli import output
from keel.cli.state import chosen_project as _project
from keel.cli.state import client

app = typer.Typer(
    help="Deployments: which model alias (or version) `keel serve NAME` serves, canary and shadow.\n\n"
    "Example: keel deploy create churn-prod --model churn@production",
    no_args_is_help=True,
)

ProjectOption = Annotated[
    str | None, typer.Option("--project", "-p", help="Project (default: the `project` setting).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
NameArg = Annotated[str, typer.Argument(help="The deployment's name (unique across projects).")]


def _ref(model: str, which: str | None) -> str:
    return f"{model}@{which}" if which is not None else ""


def _row(d: Any) -> list[Any]:
    canary = f"{_ref(d.model, d.canary)} ({d.canary_percent}%)" if d.canary else ""
    return [
        d.name,
        _ref(d.model, d.target),
        d.version if d.version is not None else "none",
        canary,
        _ref(d.model, d.shadow),
        d.updated_at.isoformat(timespec="seconds"),
    ]


@app.command("create")
def create(
    name: NameArg,
    model: Annotated[str, typer.Option("--model", "-m", help="What it follows: NAME@ALIAS or NAME@VERSION.")],
    canary: Annotated[
        str | None, typer.Option("--canary", help="Canary reference and share: NAME@REF:10%.")
    ] = None,
    shadow: Annotated[
        str | None, typer.Option("--shadow", help="A reference that sees a copy of every request.")
    ] = None,
    allow_unsafe_pickle: Annotated[
        bool, typer.Option("--allow-unsafe-pickle", help="Let the server load pickled versions (runs code).")
    ] = False,
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """Create a deployment that follows a model alias or version.

    Example: keel deploy create churn-prod --model churn@production --canary churn@candidate:10%
    """
    made = client().deployments.create(
        project=_project(project),
        name=name,
        model=model,
        canary=canary,
        shadow=shadow,
        allow_unsafe_pickle=allow_unsafe_pickle,
    )
    if json_out:
        output.print_json(made)
        return
    output.done(f"deployment {made.name} follows {model} (version {made.version})")


@app.command("ls")
def ls(project: ProjectOption = None, json_out: JsonOption = False) -> None:
    """List the project's deployments and the version each serves now.

    Example: keel deploy ls --project churn --json
    """
    proj = _project(project)
    items = client().deployments.ls(project=proj)
    if json_out:
        output.print_json(items)
        return
    columns = ["name", "follows", "version", "canary", "shadow", "updated"]
    output.print_table(f"deployments in {proj}", columns, [_row(d) for d in items])


@app.command("show")
def show(name: NameArg, project: ProjectOption = None, json_out: JsonOption = False) -> None:
    """Show one deployment: what it follows, the versions that resolves to, canary, shadow, settings.

    Example: keel deploy show churn-prod --json
    """
    found = client().deployments.get(project=_project(project), name=name)
    if json_out:
        output.print_json(found)
        return
    output.print_table(
        f"deployment {name}",
        ["field", "value"],
        [[k, v] for k, v in output.to_plain(found).items()],
    )


@app.command("edit")
def edit(
    name: NameArg,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Follow another alias or version.")
    ] = None,
    canary: Annotated[str | None, typer.Option("--canary", help="NAME@REF:10%.")] = None,
    canary_percent: Annotated[int | None, typer.Option("--canary-percent", help="0 to 100.")] = None,
    shadow: Annotated[str | None, typer.Option("--shadow", help="NAME@REF.")] = None,
    no_canary: Annotated[bool, typer.Option("--no-canary", help="Remove the canary.")] = False,
    no_shadow: Annotated[bool, typer.Option("--no-shadow", help="Remove the shadow.")] = False,
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """Change what a deployment follows, its canary or its shadow.

    Example: keel deploy edit churn-prod --canary-percent 50
    """
    changed = client().deployments.edit(
        project=_project(project),
        name=name,
        model=model,
        canary=canary,
        canary_percent=canary_percent,
        shadow=shadow,
        remove_canary=no_canary,
        remove_shadow=no_shadow,
    )
    if json_out:
        output.print_json(changed)
        return
    output.done(f"deployment {name} changed")


@app.command("rm")
def rm(name: NameArg, project: ProjectOption = None, json_out: JsonOption = False) -> None:
    """Remove a deployment (project admin).

    Example: keel deploy rm churn-prod
    """
    removed = client().deployments.delete(project=_project(project), name=name)
    if json_out:
        output.print_json(removed)
        return
    output.done(f"deployment {name} removed")
