"""``keel model validate``, ``keel model check-parity``, ``keel model policy``: registered into ``keel model``.

The commands live here, not in ``model_cmd``, so the model group stays the
registry's; :func:`register` adds them to its Typer. A reference such as
``churn@candidate`` is resolved through the registry here, in the shell, and
the package digest handed to the validation service (which sits below the
registry and never reads its tables). Every check exits 1 when it fails.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from keel.cli import output
from keel.cli.state import chosen_project, client

ProjectOpt = Annotated[
    str | None, typer.Option("--project", "-p", help="Project (default: the `project` setting).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
RefArg = Annotated[str, typer.Argument(help="NAME, NAME@VERSION, NAME@ALIAS or model_version:<id>.")]


def _label(version: Any) -> str:
    return f"{version.model}@{version.number}"


def check_parity(
    ref: RefArg,
    rtol: Annotated[
        float | None, typer.Option("--rtol", help="Relative tolerance (default: recorded).")
    ] = None,
    atol: Annotated[
        float | None, typer.Option("--atol", help="Absolute tolerance (default: recorded).")
    ] = None,
    project: ProjectOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Replay the package's stored raw rows through its preprocessing, as the model server loads it.

    Exit 1 when a feature of a row differs from what training recorded.

    Example: keel model check-parity churn@candidate
    """
    c, proj = client(), chosen_project(project)
    version = c.models.get(project=proj, ref=ref)
    report = c.validation.check_parity(project=proj, package=version.package_digest, rtol=rtol, atol=atol)
    if json_out:
        output.print_json(report)
    else:
        for m in report.mismatches:
            output.line(f"feature {m.feature!r} row {m.row}: training {m.expected!r}, serving {m.actual!r}")
        state = "parity holds" if report.passed else "PARITY FAILED"
        output.line(
            f"{_label(version)}: {state} ({report.rows} rows x {report.features} features, "
            f"rtol {report.rtol:g}, atol {report.atol:g}): {report.message}"
        )
    if not report.passed:
        raise typer.Exit(1)


def validate_model(
    ref: RefArg,
    data: Annotated[str, typer.Option("--data", "-d", help="The labelled version (name@v2).")],
    label: Annotated[str, typer.Option("--label", "-l", help="The label column.")],
    champion: Annotated[
        str, typer.Option("--champion", help="Alias of the model to beat ('' to skip).")
    ] = "production",
    slices: Annotated[
        list[str] | None, typer.Option("--slice", help="A column to measure per value (repeatable).")
    ] = None,
    n_boot: Annotated[int, typer.Option("--n-boot", help="Bootstrap resamples for fairness.")] = 1000,
    project: ProjectOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Measure a version on labelled data: metrics, KPIs, the champion, slices, fairness; store the report.

    Exit 1 when a KPI is missed, the champion is not beaten by the project's
    margin, or the package's preprocessing parity fails.

    Example: keel model validate churn@candidate --data churn-holdout@v2 --label churned
    """
    from keel.cli.validate_cmd import _resolve
    from keel.core.errors import NotFound

    c, proj = client(), chosen_project(project)
    version = c.models.get(project=proj, ref=ref)
    _, data_project, dataset, selector = _resolve(data, proj)
    rival = None
    if champion:
        try:
            rival = c.models.get(project=proj, ref=f"{version.model}@{champion}")
        except NotFound:
            rival = None
        if rival is not None and rival.id == version.id:
            rival = None  # the candidate holds the alias already: nothing to compare against
    report = c.validation.validate_model(
        project=data_project,
        package=version.package_digest,
        dataset=dataset,
        version=selector,
        label_column=label,
        label=_label(version),
        champion=rival.package_digest if rival is not None else None,
        champion_label=_label(rival) if rival is not None else None,
        slices=slices or None,
        n_boot=n_boot,
    )
    if json_out:
        output.print_json(report)
    else:
        print_model_report(report, champion if rival is None and champion else None)
    if not report.passed:
        raise typer.Exit(1)


def print_model_report(report: Any, missing_champion: str | None = None) -> None:
    """The report as tables: metrics, KPIs, champion, slices, fairness, then the verdict."""
    output.line(f"{report.label} on {report.data_address} ({report.rows:,} rows, {report.task})")
    output.print_table(
        "metrics",
        ["metric", "value"],
        [[k, f"{v:.4f}"] for k, v in report.metrics.items()],
    )
    kpis = [
        [str(r.kpi), "-" if r.value is None else f"{r.value:.4f}", r.status]
        for r in report.kpi_report.results
    ]
    if kpis:
        output.print_table("KPIs", ["KPI", "value", "verdict"], kpis)
    if report.champion is not None:
        ch = report.champion
        output.line(
            f"champion {ch.label}: {ch.metric} {_f(ch.champion)} -> {_f(ch.candidate)} "
            f"(improvement {_f(ch.improvement)}, needs >= {ch.min_improvement:g}): "
            f"{'beaten' if ch.passed else 'NOT beaten'}"
        )
    elif missing_champion:
        output.line(f"no champion: no other version holds '{missing_champion}'")
    for s in report.slices:
        shown = ", ".join(
            f"{k}={v:.3f}" for k, v in s.metrics.items() if k in ("accuracy", "roc_auc", "rmse")
        )
        output.line(f"slice {s.column}={s.value} ({s.rows} rows): {shown}")
    for f in report.fairness:
        rows = [[d, f"{e.value:.4f}", f"[{_f(e.low)}, {_f(e.high)}]"] for d, e in f.disparities.items()]
        output.print_table(
            f"fairness by {f.column} ({len(f.groups)} groups, {f.n_boot} resamples, {f.confidence:.0%} CI)",
            ["disparity", "value", "interval"],
            rows,
        )
    if report.parity:
        output.line(f"parity: {report.parity}")
    for reason in report.failed:
        output.line(f"failed: {reason}")
    output.line(f"report {report.id}: {'passed' if report.passed else 'FAILED'}")


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def policy(
    sensitive: Annotated[
        list[str] | None,
        typer.Option("--sensitive", help="A sensitive column (repeatable; replaces the list)."),
    ] = None,
    min_improvement: Annotated[
        float | None,
        typer.Option("--min-improvement", help="How much a candidate must beat the champion by."),
    ] = None,
    compare_metric: Annotated[
        str | None, typer.Option("--compare-metric", help="The metric the champion is compared on.")
    ] = None,
    upper_bound: Annotated[
        bool | None,
        typer.Option("--upper-bound/--point", help="Judge fairness KPIs at the interval's conservative end."),
    ] = None,
    evaluation_dataset: Annotated[
        str | None, typer.Option("--evaluation-dataset", help="The dataset gate evidence must use.")
    ] = None,
    require: Annotated[
        bool | None,
        typer.Option("--require/--no-require", help="Promotion to a protected alias needs a passing report."),
    ] = None,
    project: ProjectOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Show the project's validation policy, or change the fields given (project admins).

    Example: keel model policy --sensitive gender --min-improvement 0.005 --require
    """
    c, proj = client(), chosen_project(project)
    changes = {
        "sensitive_columns": sensitive,
        "min_improvement": min_improvement,
        "compare_metric": compare_metric,
        "fairness_at_upper_bound": upper_bound,
        "evaluation_dataset": evaluation_dataset,
        "require_validation": require,
    }
    given = {k: v for k, v in changes.items() if v is not None}
    result = c.validation.set_policy(project=proj, **given) if given else c.validation.policy(project=proj)
    if json_out:
        output.print_json(result)
        return
    for key, value in result.model_dump().items():
        output.line(f"{key + ':':26}{value}")


def register(app: typer.Typer) -> None:
    """Add ``validate``, ``check-parity`` and ``policy`` to the ``keel model`` group."""
    app.command("validate")(validate_model)
    app.command("check-parity")(check_parity)
    app.command("policy")(policy)
