"""``keel run``: list, show, compare and manage experiment runs."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from keel.cli import output
from keel.cli.state import chosen_project as _project
from keel.cli.state import client

app = typer.Typer(
    help="Runs: params, metrics, artifacts, KPIs and cost of experiments.\n\nExample: keel run ls --project churn",
    no_args_is_help=True,
)
artifacts_app = typer.Typer(
    help="A run's artifacts.\n\nExample: keel run artifacts ls 01J2ABCDEF...", no_args_is_help=True
)
app.add_typer(artifacts_app, name="artifacts")

#: Every command that takes a run takes a unique prefix of its id too, as git takes a short hash.
RUN_ID_HELP = "Run id, or a unique prefix of it (at least 4 characters) as `keel run ls` prints it."

ProjectOption = Annotated[
    str | None, typer.Option("--project", "-p", help="Project (default: the `project` setting).")
]


def _num(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


@app.command("ls")
def ls(
    project: ProjectOption = None,
    filter: Annotated[
        str | None, typer.Option("--filter", "-f", help='e.g. "metrics.auc > 0.9 and params.depth = 6".')
    ] = None,
    order_by: Annotated[
        list[str] | None, typer.Option("--order-by", help='e.g. "metrics.auc desc" (repeatable).')
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Most runs to list.")] = 100,
    deleted: Annotated[bool, typer.Option("--deleted", help="Include deleted runs.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List a project's runs, filtered and ordered, with final metrics and the KPI verdict.

    Example: keel run ls --project churn --filter "metrics.auc > 0.9" --order-by "metrics.auc desc"
    """
    c = client()
    name = _project(project)
    runs: list[Any] = []
    token = None
    while len(runs) < limit:
        page = c.runs.search(
            project=name,
            filter=filter,
            order_by=order_by or [],
            limit=min(1000, limit - len(runs)),
            page_token=token,
            include_deleted=deleted,
        )
        runs.extend(page.items)
        token = page.next_token
        if not token:
            break
    if json_out:
        output.print_json(runs)
        return
    keys = sorted({k for r in runs for k in r.metrics if not k.startswith("system/")})[:6]
    output.print_table(
        f"{len(runs)} run(s) of {name}",
        ["id", "name", "status", "started", "duration s", "cost", "KPIs", *keys],
        [
            [
                r.id,
                r.name,
                r.status,
                f"{r.start_time:%m-%d %H:%M}",
                _num(r.duration),
                _num(r.cost),
                r.kpi_summary or "",
                *(_num(r.metrics.get(k)) for k in keys),
            ]
            for r in runs
        ],
        short_ids=("id",),
    )


@app.command("show")
def show(
    run_id: Annotated[str, typer.Argument(help=RUN_ID_HELP)],
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a run: params, final metrics, KPI report, system usage, cost, environment and lineage.

    Example: keel run show 01J2ABCDEF... --json
    """
    c = client()
    run = c.runs.get(run_id=run_id)
    lineage = c.runs.lineage(run_id=run_id)
    if json_out:
        output.print_json({**run.model_dump(mode="json"), "lineage": lineage.model_dump(mode="json")})
        return
    con = output.console()
    con.print(f"[bold]{run.name}[/bold]  [dim]{run.id}[/dim]  {run.status}", highlight=False)
    facts = [f"project {run.project}", f"user {run.user}", f"started {run.start_time:%Y-%m-%d %H:%M:%S} UTC"]
    if run.duration is not None:
        facts.append(f"duration {run.duration:.1f} s")
    facts.append(f"cost {_num(run.cost)}" if run.cost is not None else "cost - (set hourly_price)")
    if run.energy_kwh is not None:
        facts.append(f"GPU energy {run.energy_kwh:.4g} kWh")
    con.print("  " + "   ".join(facts), highlight=False)
    git = run.environment.get("git") or {}
    if git:
        con.print(
            f"  git {git.get('commit', '')[:12]} on {git.get('branch')}{' (dirty)' if git.get('dirty') else ''}",
            highlight=False,
        )
    if run.params:
        output.print_table("params", ["key", "value"], [[k, v] for k, v in run.params.items()])
    user_metrics = {k: v for k, v in run.metrics.items() if not k.startswith("system/")}
    system = {k: v for k, v in run.metrics.items() if k.startswith("system/")}
    if user_metrics:
        output.print_table("final metrics", ["key", "value"], [[k, _num(v)] for k, v in user_metrics.items()])
    if system:
        output.print_table(
            "system usage (last sample)", ["key", "value"], [[k, _num(v)] for k, v in system.items()]
        )
    if run.kpi_report is not None:
        output.print_table(
            f"KPIs: {run.kpi_report.summary()}",
            ["KPI", "value", "status"],
            [[str(r.kpi), _num(r.value), r.status] for r in run.kpi_report.results],
        )
    if run.tags:
        output.print_table("tags", ["key", "value"], [[k, v] for k, v in run.tags.items()])
    edges = [*lineage.upstream, *lineage.downstream]
    if edges:

        def named(ref: str) -> str:
            label = lineage.labels.get(ref)
            return f"{label} ({ref})" if label else ref

        output.print_table(
            "lineage", ["from", "relation", "to"], [[named(e.src), e.relation, named(e.dst)] for e in edges]
        )


@app.command("compare")
def compare(
    run_ids: Annotated[list[str], typer.Argument(help="Two or more run ids or unique prefixes.")],
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print a Markdown table (PR comment).")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Compare runs: params side by side (* marks a difference), final metrics, KPI verdicts.

    Example: keel run compare 01J2AB... 01J2CD... --markdown
    """
    from keel.core.errors import InvalidInput
    from keel.tracking.compare import compare as build
    from keel.tracking.compare import markdown as to_markdown
    from keel.tracking.compare import rows

    if len(run_ids) < 2:
        raise InvalidInput("compare needs at least two run ids")
    c = client()
    comparison = build([c.runs.get(run_id=r) for r in run_ids])
    if json_out:
        output.print_json(comparison)
    elif markdown:
        typer.echo(to_markdown(comparison), nl=False)
    else:
        header, body = rows(comparison)
        output.print_table(None, header, body)


@app.command("lineage")
def lineage(
    run_id: Annotated[str, typer.Argument(help=RUN_ID_HELP)],
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show what a run used (datasets, code) and what came from it (artifacts, models).

    Example: keel run lineage 01J2ABCDEF...
    """
    graph = client().runs.lineage(run_id=run_id)
    if json_out:
        output.print_json(graph)
        return

    def named(ref: str) -> str:
        label = graph.labels.get(ref)
        return f"{label} ({ref})" if label else ref

    output.print_table(
        f"lineage of {named(graph.run)}",
        ["direction", "from", "relation", "to"],
        [["upstream", named(e.src), e.relation, named(e.dst)] for e in graph.upstream]
        + [["downstream", named(e.src), e.relation, named(e.dst)] for e in graph.downstream],
    )


@app.command("history")
def history(
    run_id: Annotated[str, typer.Argument(help=RUN_ID_HELP)],
    key: Annotated[str, typer.Argument(help="Metric key, e.g. loss.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print every logged point of one metric of a run.

    Example: keel run history 01J2ABCDEF... loss
    """
    c = client()
    points = c.runs.metric_history(run_id=run_id, key=key)
    if not points:  # the SDK answers [] (points may still be on their way); a person typed a wrong key
        from keel.core.errors import NotFound

        known = sorted(c.runs.get(run_id=run_id).metrics)
        if key not in known:
            raise NotFound(
                f"run {run_id} has no metric {key!r}",
                hint=f"its metrics: {', '.join(known[:20])}" if known else "it has logged no metrics yet",
            )
    if json_out:
        output.print_json(points)
        return
    output.print_table(
        key, ["step", "value", "timestamp ms"], [[p.step, _num(p.value), p.timestamp] for p in points]
    )


class EndStatus(StrEnum):
    """How a run ended, as ``keel run end --status`` takes it."""

    finished = "finished"
    failed = "failed"
    killed = "killed"


@app.command("end")
def end(
    run_id: Annotated[str, typer.Argument(help=RUN_ID_HELP)],
    status: Annotated[EndStatus, typer.Option("--status", help="How it ended.")] = EndStatus.killed,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """End a run left RUNNING (its process died): duration, cost and KPIs are set now.

    Points its process logged before now and spooled are still accepted by `keel run sync`.

    Example: keel run end 01J2ABCDEF... --status failed
    """
    run = client().runs.end(run_id=run_id, status=status.value.upper())
    if json_out:
        output.print_json(run)
        return
    output.done(f"ended run {run.name} ({run.id}) as {run.status}")


def _set_deleted(run_id: str, deleted: bool, json_out: bool) -> None:
    c = client()
    run = c.runs.delete(run_id=run_id) if deleted else c.runs.restore(run_id=run_id)
    if json_out:
        output.print_json(run)
        return
    output.done(f"{'deleted' if deleted else 'restored'} run {run.name} ({run.id})")


@app.command("delete")
def delete(
    run_id: Annotated[str, typer.Argument(help=RUN_ID_HELP)],
    json_out: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
) -> None:
    """Hide a run from listings (restorable; its artifacts stay referenced).

    Example: keel run delete 01J2ABCD
    """
    _set_deleted(run_id, True, json_out)


@app.command("restore")
def restore(
    run_id: Annotated[str, typer.Argument(help=RUN_ID_HELP)],
    json_out: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
) -> None:
    """Bring a deleted run back.

    Example: keel run restore 01J2ABCD
    """
    _set_deleted(run_id, False, json_out)


@app.command("cost")
def cost(
    project: ProjectOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Sum the cost, GPU energy and duration of a project's runs.

    Example: keel run cost --project churn
    """
    summary = client().runs.cost(project=_project(project))
    if json_out:
        output.print_json(summary)
        return
    output.print_table(
        f"cost of {summary.project}",
        ["runs", "cost", "GPU energy kWh", "duration h"],
        [[summary.runs, _num(summary.cost), _num(summary.energy_kwh), _num(summary.duration / 3600)]],
    )


@app.command("sync")
def sync(
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Send metrics (and run ends) spooled while the server was unreachable.

    A spool file is removed only once the server stored its points; points it
    refuses for good (logged after their run ended) are kept under refused/.

    Example: keel run sync
    """
    from keel.core.errors import CheckFailed
    from keel.tracking.spool import sync_spool

    c = client()
    home = c.settings.home_path if c.settings else None
    spool = home / "spool" if home else Path.home() / ".cache" / "keel" / "spool"
    result = sync_spool(spool, c.runs.log_batch, c.runs.end)
    if json_out:
        output.print_json({"sent": result.sent, "waiting_batches": result.left, "refused": result.refused})
    else:
        output.done(f"sent {result.sent} spooled point(s) from {spool}")
    if result.left:
        from keel.core.errors import ServerUnreachable

        raise ServerUnreachable(
            f"{result.left} batch(es) still wait in {spool}: the server did not take them",
            hint="run `keel run sync` again once it answers",
        )
    if result.refused:
        raise CheckFailed(
            f"the server refused {result.refused} point(s) for good; they are kept in {spool / 'refused'}",
            hint="they were logged after their run ended; resume the run to log them again",
        )


@artifacts_app.command("ls")
def artifacts_ls(
    run_id: Annotated[str, typer.Argument(help=RUN_ID_HELP)],
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List a run's artifacts with their sizes and digests.

    Example: keel run artifacts ls 01J2ABCDEF...
    """
    runs = client().runs
    items = output.all_pages(lambda **page: runs.list_artifacts(run_id=run_id, **page))
    if json_out:
        output.print_json(items)
        return
    output.print_table(
        None, ["path", "size", "digest"], [[a.path, a.size, a.digest] for a in items], short_ids=("digest",)
    )


@artifacts_app.command("get")
def artifacts_get(
    run_id: Annotated[str, typer.Argument(help=RUN_ID_HELP)],
    path: Annotated[str, typer.Argument(help="Artifact path within the run.")],
    dest: Annotated[
        Path | None, typer.Option("--output", "-o", help="Where to write it (default: its name).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print what was written as JSON.")] = False,
) -> None:
    """Download one artifact of a run (verified against its digest).

    Example: keel run artifacts get 01J2ABCDEF... model/model.skops -o model.skops
    """
    stream = client().runs.download_artifact(run_id=run_id, path=path)
    target = dest or Path(path.rsplit("/", 1)[-1])
    tmp = target.with_name(target.name + ".part")
    size = 0
    with tmp.open("wb") as fh:
        for chunk in stream:
            fh.write(chunk)
            size += len(chunk)
    tmp.replace(target)
    if json_out:
        output.print_json({"path": path, "written": str(target), "size": size})
        return
    output.done(f"wrote {target} ({size:,} bytes)")
