"""``keel pipeline``: run a Python pipeline (cached, tracked), list and show its runs."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from keel.cli import output
from keel.cli.state import chosen_project as _project
from keel.cli.state import client

app = typer.Typer(
    help="Pipelines: cached, tracked DAGs of Python steps.\n\nExample: keel pipeline run churn.py:churn --jobs 2",
    no_args_is_help=True,
)

ProjectOption = Annotated[
    str | None, typer.Option("--project", help="Project (default: the `project` setting).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _params(pairs: list[str]) -> dict[str, Any]:
    from keel.core.errors import InvalidInput

    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"--param {pair!r}: write NAME=VALUE")
        params[key.strip()] = value  # the pipeline's annotations convert and range-check it
    return params


def _step_rows(steps: list[Any]) -> list[list[Any]]:
    return [
        [
            s.name,
            "cached" if s.cached else s.status.lower(),
            "" if s.duration_s is None else f"{s.duration_s:.3f}",
            (s.output_digest or "")[:12],
            ",".join(s.upstream),
            s.error or "",
        ]
        for s in steps
    ]


_STEP_COLUMNS = ["step", "status", "seconds", "output", "after", "error"]


@app.command("run")
def run(
    target: Annotated[str, typer.Argument(help="FILE.py:NAME or MODULE:NAME of a @keel.pipeline function.")],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-P", help="A pipeline parameter, NAME=VALUE (repeatable).")
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Steps run at once (a local process pool).")] = 1,
    executor: Annotated[str, typer.Option("--executor", help="Where steps run: local or ray.")] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address", help="Ray cluster for --executor ray: auto, HOST:PORT or ray://HOST:PORT."
        ),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Run every step; still record outputs.")
    ] = False,
    rerun: Annotated[
        list[str] | None, typer.Option("--rerun", help="Run this step even if cached (repeatable).")
    ] = None,
    lock: Annotated[
        str,
        typer.Option("--lock", help="Lock file to write (each step's input and output digests), for git."),
    ] = "keel.lock",
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """Run a pipeline: steps whose code, params and inputs are unchanged are skipped as cached.

    Writes keel.lock (like dvc.lock): each step's inputs' and outputs' digests, to commit with git.
    Exit 1 when a step fails (named, with why); earlier steps' outputs are kept and cached.

    Example: keel pipeline run churn.py:churn -P lr=0.05 --jobs 2 --rerun train
    """
    from keel.pipelines.load import load_pipeline
    from keel.pipelines.run import run_pipeline

    proj = _project(project)
    pipe = load_pipeline(target)
    result = run_pipeline(
        pipe,
        client(),
        project=proj,
        params=_params(param or []),
        executor=executor,
        jobs=jobs,
        no_cache=no_cache,
        rerun=rerun or [],
        target=target,
        lock=lock,
        ray_address=ray_address,
    )
    if json_out:
        output.print_json(client().pipelines.get(project=proj, pipeline_run_id=result.id))
        return
    ran = [r for r in result.steps.values() if not r.cached]
    if ran:  # the steps that ran; `keel pipeline show` lists every step, cached ones too
        rows = [
            [
                r.name,
                r.status.lower(),
                "" if r.duration_s is None else f"{r.duration_s:.3f}",
                (r.digest or "")[:12],
            ]
            for r in ran
        ]
        output.print_table(
            f"pipeline {pipe.name} run {result.id}", ["step", "status", "seconds", "output"], rows
        )
    cached = len(result.steps) - len(ran)
    output.done(f"pipeline run {result.id} {result.status}: {len(ran)} ran, {cached} cached")


@app.command("sweep")
def sweep(
    target: Annotated[str, typer.Argument(help="FILE.py:NAME or MODULE:NAME of a @keel.pipeline function.")],
    param: Annotated[
        list[str],
        typer.Option(
            "--param",
            "-P",
            help="A swept parameter: NAME=uniform(a,b) | loguniform(a,b) | int(a,b) | choice(x,y,...) (repeatable).",
        ),
    ],
    fixed: Annotated[
        list[str] | None, typer.Option("--set", help="A fixed pipeline parameter, NAME=VALUE (repeatable).")
    ] = None,
    sampler: Annotated[str, typer.Option("--sampler", help="grid, random or tpe (Optuna).")] = "random",
    trials: Annotated[int, typer.Option("--trials", help="At most this many trials.")] = 8,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Trials run at once (a local process pool).")] = 1,
    budget_time: Annotated[
        str | None, typer.Option("--budget-time", help="Start no trial after this long (30s, 10m, 2h).")
    ] = None,
    budget_cost: Annotated[
        float | None, typer.Option("--budget-cost", help="Start no trial once the trials' cost reaches this.")
    ] = None,
    hourly_price: Annotated[
        float | None, typer.Option("--hourly-price", help="Price of an hour of a trial (its run's cost).")
    ] = None,
    objective: Annotated[
        str | None, typer.Option("--objective", help="Metric to rank by (default: the project's first KPI).")
    ] = None,
    direction: Annotated[str | None, typer.Option("--direction", help="maximize or minimize.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random and TPE samplers.")] = 0,
    executor: Annotated[
        str, typer.Option("--executor", help="Where trials' steps run: local or ray.")
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address", help="Ray cluster for --executor ray: auto, HOST:PORT or ray://HOST:PORT."
        ),
    ] = None,
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """Sweep a pipeline's parameters within a budget; each trial is a child run; print the leaderboard.

    Example: keel pipeline sweep churn.py:churn -P "lr=loguniform(1e-3,1)" --trials 16 --sampler tpe --budget-time 10m
    """
    from keel.auth.durations import parse_duration
    from keel.pipelines.load import load_pipeline
    from keel.pipelines.sweep import run_sweep

    space = _params(param)
    result = run_sweep(
        load_pipeline(target),
        client(),
        project=_project(project),
        space=space,
        params=_params(fixed or []),
        sampler=sampler,
        trials=trials,
        jobs=jobs,
        budget_time_s=parse_duration(budget_time, what="--budget-time").total_seconds()
        if budget_time
        else None,
        budget_cost=budget_cost,
        hourly_price=hourly_price,
        objective=objective,
        direction=direction,
        seed=seed,
        target=target,
        executor=executor,
        ray_address=ray_address,
    )
    if json_out:
        from dataclasses import asdict

        output.print_json(asdict(result))
        return
    rows = [
        [
            str(t.number),
            t.status.lower(),
            "" if t.score is None else f"{t.score:.4g}",
            "" if t.cost is None else f"{t.cost:.4g}",
            "" if t.score_per_cost is None else f"{t.score_per_cost:.4g}",
            ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in t.params.items()),
            t.run_id or "",
        ]
        for t in result.leaderboard + [t for t in result.trials if t.score is None]
    ]
    output.print_table(
        f"sweep run {result.run_id}: {result.objective} ({result.direction})",
        ["trial", "status", result.objective, "cost", "per cost", "params", "run"],
        rows,
    )
    output.done(
        f"{len(result.trials)} trials in {result.elapsed_s:.1f} s, stopped by {result.stopped_by}"
        + (f"; cost {result.spent_cost:.4g}" if hourly_price else "")
    )


@app.command("ls")
def ls(
    pipeline: Annotated[str | None, typer.Option("--pipeline", help="Only this pipeline's runs.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many runs.")] = 50,
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """List the project's pipeline runs, newest first.

    Example: keel pipeline ls --pipeline churn --json
    """
    runs = client().pipelines.list(project=_project(project), pipeline=pipeline, limit=limit)
    if json_out:
        output.print_json(runs)
        return
    rows = [
        [r.id, r.pipeline, r.status, r.failed_step or "", r.started_at.isoformat(timespec="seconds")]
        for r in runs
    ]
    output.print_table("pipeline runs", ["id", "pipeline", "status", "failed step", "started"], rows)


@app.command("show")
def show(
    run_id: Annotated[str, typer.Argument(help="A pipeline run id (or a unique start of one).")],
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """Show a pipeline run: its DAG, each step's status, whether it was cached, duration and output.

    Example: keel pipeline show 01JD3 --json
    """
    shown = client().pipelines.get(project=_project(project), pipeline_run_id=run_id)
    if json_out:
        output.print_json(shown)
        return
    output.print_table(
        f"pipeline {shown.pipeline} run {shown.id} {shown.status}"
        + (f" (parent run {shown.run_id})" if shown.run_id else " (all cached: no run was made)"),
        _STEP_COLUMNS,
        _step_rows(shown.steps),
    )
    if shown.error:
        output.line(f"failed at step {shown.failed_step}: {shown.error}")


trigger_app = typer.Typer(
    help="Triggers: run a pipeline on new data, a schedule or drift (a project's retraining target).\n\n"
    "Example: keel pipeline trigger add churn.py:churn --on data:churn-raw",
    no_args_is_help=True,
)
app.add_typer(trigger_app, name="trigger")


def _absolute_target(target: str) -> str:
    """A file target made absolute (the server's worker loads it later, from its own directory)."""
    from pathlib import Path

    where, _, attr = target.rpartition(":")
    if where.endswith(".py") or "/" in where:
        return f"{Path(where).resolve()}:{attr}"
    return target


@trigger_app.command("add")
def trigger_add(
    target: Annotated[str, typer.Argument(help="FILE.py:NAME or MODULE:NAME of a @keel.pipeline function.")],
    on: Annotated[
        str,
        typer.Option("--on", help="data:DATASET, schedule:'CRON' (UTC), drift:DEPLOYMENT or manual."),
    ],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-P", help="A pipeline parameter, NAME=VALUE (repeatable).")
    ] = None,
    cooldown: Annotated[
        int, typer.Option("--cooldown", help="Seconds after a firing in which events queue nothing.")
    ] = 3600,
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """Register a pipeline as the project's retraining target, run by `keel server` on an event (admin).

    The pipeline is loaded and checked with its parameters first; its runs act with your rights.

    Example: keel pipeline trigger add churn.py:churn --on "schedule:0 3 * * *" -P lr=0.05
    """
    from keel.pipelines.load import load_pipeline

    params = _params(param or [])
    plan = load_pipeline(target).plan(params)  # static checks before anything is recorded
    added = client().pipelines.add_trigger(
        project=_project(project),
        target=_absolute_target(target),
        event=on,
        params={k: v for k, v in plan.params.items() if k in params},
        cooldown_s=cooldown,
    )
    if json_out:
        output.print_json(added)
        return
    output.done(f"trigger {added.id}: {added.target} on {added.event}")


@trigger_app.command("ls")
def trigger_ls(project: ProjectOption = None, json_out: JsonOption = False) -> None:
    """List the project's triggers.

    Example: keel pipeline trigger ls --json
    """
    found = client().pipelines.triggers(project=_project(project))
    if json_out:
        output.print_json(found)
        return
    rows = [[t.id, t.event, t.target, str(t.cooldown_s), t.created_by] for t in found]
    output.print_table("triggers", ["id", "event", "pipeline", "cooldown s", "added by"], rows)


@trigger_app.command("rm")
def trigger_rm(
    trigger_id: Annotated[str, typer.Argument(help="The trigger's id.")],
    project: ProjectOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Remove a trigger and its firings' records (admin).

    Example: keel pipeline trigger rm 01JD3...
    """
    gone = client().pipelines.remove_trigger(project=_project(project), trigger_id=trigger_id)
    if json_out:
        output.print_json(gone)
        return
    output.done(f"removed trigger {gone.id} ({gone.event})")


@trigger_app.command("fire")
def trigger_fire(
    trigger_id: Annotated[str | None, typer.Argument(help="Fire this trigger (skips its cooldown).")] = None,
    event: Annotated[
        str | None, typer.Option("--event", help="Fire every trigger on this event, e.g. drift:churn-prod.")
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept with the firing).")] = "",
    dedup_key: Annotated[
        str | None, typer.Option("--dedup-key", help="At most one firing per trigger and key.")
    ] = None,
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """Queue firings now: `keel server`'s worker runs them.

    Example: keel pipeline trigger fire --event drift:churn-prod --reason "PSI 0.3"
    """
    results = client().pipelines.trigger(
        project=_project(project), event=event, reason=reason, dedup_key=dedup_key, trigger_id=trigger_id
    )
    if json_out:
        output.print_json(results)
        return
    for r in results:
        output.line(
            f"trigger {r.trigger_id}: queued firing {r.firing.id}"
            if r.fired and r.firing
            else f"trigger {r.trigger_id}: not fired, {r.why_not}"
        )
    if not results:
        output.line("no trigger of this project is on that event")


@trigger_app.command("firings")
def trigger_firings(
    trigger_id: Annotated[str | None, typer.Option("--trigger", help="Only this trigger's firings.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 50,
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """List firings, newest first: why, state, and the pipeline run each started.

    Example: keel pipeline trigger firings --json
    """
    found = client().pipelines.firings(project=_project(project), trigger_id=trigger_id, limit=limit)
    if json_out:
        output.print_json(found)
        return
    rows = [
        [f.id, f.trigger_id, f.event, f.status, f.pipeline_run_id or "", f.error or f.reason] for f in found
    ]
    output.print_table("firings", ["id", "trigger", "event", "status", "pipeline run", "why / error"], rows)
