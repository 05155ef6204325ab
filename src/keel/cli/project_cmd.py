"""``keel project``: state the problem, its objectives and the KPIs that decide shipping."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from keel.cli import output
from keel.cli.state import client, settings

app = typer.Typer(
    help="Projects: the problem, objectives and KPIs.\n\nExample: keel project ls --json",
    no_args_is_help=True,
)

KPI_HELP = (
    "A KPI: '<metric> <op> <number> [group=col] [slice=col:value] [stage=offline|online]' (repeatable)."
)


def _show(project: Any) -> None:
    con = output.console()
    con.print(f"[bold]{project.name}[/bold]  [dim]{project.id}[/dim]", highlight=False)
    if project.description:
        con.print(f"  {project.description}", highlight=False)
    for objective in project.objectives:
        con.print(f"  objective: {objective}", highlight=False)
    con.print(
        f"  owner: {project.owner}   created: {project.created_at:%Y-%m-%d %H:%M} UTC",
        highlight=False,
    )
    if project.kpis:
        output.print_table(
            "KPIs",
            ["metric", "target", "group / slice", "stage", "reads metric"],
            [
                [
                    k.metric,
                    f"{k.comparator} {k.threshold:g}",
                    k.group or k.slice or "",
                    k.stage,
                    k.metric_key,
                ]
                for k in project.kpis
            ],
        )
    else:
        con.print("  no KPIs yet: add one with `keel project edit NAME --kpi 'accuracy >= 0.9'`")


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Project name: letters, digits, '-', '_', '.'.")],
    description: Annotated[str, typer.Option("--description", "-d", help="The problem, in a sentence.")] = "",
    objective: Annotated[
        list[str] | None, typer.Option("--objective", help="A business objective (repeatable).")
    ] = None,
    kpi: Annotated[list[str] | None, typer.Option("--kpi", help=KPI_HELP)] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the project as JSON.")] = False,
) -> None:
    """Create a project with its problem statement and KPIs.

    Example: keel project create churn -d "Predict cancellations" --kpi "roc_auc >= 0.9"
    """
    project = client().projects.create(
        name=name, description=description, objectives=objective or [], kpis=kpi or []
    )
    current = _adopt_if_unset(project.name)
    if json_out:
        output.print_json(project)
        return
    output.done(f"created project {project.name} with {len(project.kpis)} KPI(s)")
    if current:
        output.line(f"{project.name} is now the current project (`keel project use NAME` switches)")


def _adopt_if_unset(name: str) -> bool:
    """Make ``name`` the workspace's current project if the user never chose one; whether it did.

    "Never chose" means the ``project`` setting still has its default (no
    flag, no KEEL_PROJECT, nothing in config.toml). Without a local workspace
    (a server, a database URL) there is no file to remember it in.
    """
    from keel.core.workspace import set_config_value

    s = settings()
    if s.sources["project"] != "default" or s.server_url or s.home_path is None or not s.home_path.is_dir():
        return False
    set_config_value(s.home_path, "project", name)
    return True


@app.command("use")
def use(
    name: Annotated[str, typer.Argument(help="The project later commands use when none is named.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print the choice as JSON.")] = False,
) -> None:
    """Make NAME the current project of this workspace (written to .keel/config.toml).

    Example: keel project use churn
    """
    from keel.core.errors import ConfigError
    from keel.core.workspace import set_config_value

    s = settings()
    project = client().projects.get(name)  # NotFound, with how to choose, if there is none
    if s.server_url or s.home_path is None or not s.home_path.is_dir():
        raise ConfigError(
            "no workspace here to remember the current project in",
            hint=f"export KEEL_PROJECT={project.name}, or pass --project {project.name} to each command",
        )
    set_config_value(s.home_path, "project", project.name)
    if json_out:
        overridden = s.sources["project"] in ("env", "flag")
        output.print_json(
            {"project": project.name, "config": str(s.home_path / "config.toml"), "overridden": overridden}
        )
        return
    output.done(f"current project: {project.name} (in {s.home_path / 'config.toml'})")
    if s.sources["project"] in ("env", "flag"):
        output.line(
            f"note: {'KEEL_PROJECT' if s.sources['project'] == 'env' else '-c project'} still overrides it"
        )


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Project name.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a project's problem statement, objectives and KPIs.

    Example: keel project show churn --json
    """
    project = client().projects.get(name)
    if json_out:
        output.print_json(project)
    else:
        _show(project)


@app.command("ls")
def ls(
    limit: Annotated[int, typer.Option("--limit", help="Most projects to list.")] = 1000,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the projects you can see; * marks the current one.

    Example: keel project ls --json
    """
    projects = output.all_pages(client().projects.ls, limit)
    if json_out:
        output.print_json(projects)
        return
    current = settings().project
    output.print_table(
        None,
        ["", "name", "KPIs", "owner", "created", "description"],
        [
            [
                "*" if p.name == current else "",
                p.name,
                len(p.kpis),
                p.owner,
                f"{p.created_at:%Y-%m-%d}",
                p.description,
            ]
            for p in projects
        ],
    )


@app.command("edit")
def edit(
    name: Annotated[str, typer.Argument(help="Project name.")],
    description: Annotated[
        str | None, typer.Option("--description", "-d", help="New problem statement.")
    ] = None,
    objective: Annotated[
        list[str] | None, typer.Option("--objective", help="Replace the objectives (repeatable).")
    ] = None,
    kpi: Annotated[
        list[str] | None,
        typer.Option(
            "--kpi", help=KPI_HELP + " Replaces the KPI on the same metric, group, slice and stage."
        ),
    ] = None,
    remove_kpi: Annotated[
        list[str] | None,
        typer.Option("--remove-kpi", help="Drop the KPIs on this metric (repeatable)."),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the project as JSON.")] = False,
) -> None:
    """Change a project's description, objectives or KPIs.

    Example: keel project edit churn --kpi "accuracy >= 0.88"
    """
    project = client().projects.edit(
        name=name,
        description=description,
        objectives=objective,
        kpis=kpi or [],
        remove_kpis=remove_kpi or [],
    )
    if json_out:
        output.print_json(project)
    else:
        output.done(f"updated project {project.name}")
        _show(project)


@app.command("check")
def check(
    name: Annotated[str, typer.Argument(help="Project name.")],
    metric: Annotated[
        list[str], typer.Option("--metric", "-m", help="A measured value: name=value (repeatable).")
    ],
    stage: Annotated[
        str | None, typer.Option("--stage", help="Only KPIs of this stage: offline or online.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check measured metrics against the project's KPIs; exit 1 unless all are met.

    Example: keel project check churn -m accuracy=0.91 -m roc_auc=0.93
    """
    from keel.core.errors import InvalidInput

    values: dict[str, str] = {}
    for item in metric:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInput(f"--metric expects name=value, got {item!r}")
        values[key.strip()] = value.strip()
    report = client().projects.evaluate(name=name, metrics=values, stage=stage)
    if json_out:
        output.print_json({"passed": report.passed, **report.model_dump(mode="json")})
    else:
        output.print_table(
            f"KPIs of {name}: {report.summary()}",
            ["KPI", "metric", "value", "status"],
            [
                [str(r.kpi), r.metric_key, "" if r.value is None else f"{r.value:g}", r.status]
                for r in report.results
            ],
        )
    if not report.passed:
        raise typer.Exit(1)
