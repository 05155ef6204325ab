"""``keel monitor``: monitors over a reference version, checks of batches and windows, reports, alert rules.

A check that finds drift exits 1 (like a failed validation or gate), so a
cron job or CI step can act on it; ``--json`` prints the whole report and
``--html FILE`` writes the self-contained report with histograms.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from keel.cli import output
from keel.cli.state import chosen_project as _project
from keel.cli.state import client

app = typer.Typer(
    help="Production monitoring: drift against a reference, live KPIs, serving health, alerts.\n\n"
    "Example: keel monitor create churn-prod --reference churn-train@v3 --deployment churn --label churned",
    no_args_is_help=True,
)
rule_app = typer.Typer(
    help="Alert rules over a monitor's figures.\n\nExample: keel monitor rule add churn-prod 'drift.share > 0.3'",
    no_args_is_help=True,
)
app.add_typer(rule_app, name="rule")

ProjectOption = Annotated[
    str | None, typer.Option("--project", help="Project (default: the `project` setting).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
HtmlOption = Annotated[
    Path | None, typer.Option("--html", help="Also write the report as one self-contained HTML file.")
]
NameArgument = Annotated[str, typer.Argument(help="The monitor's name.")]


def _tests(pairs: list[str]) -> dict[str, list[str]]:
    from keel.core.errors import InvalidInput

    tests: dict[str, list[str]] = {}
    for pair in pairs:
        kind, sep, names = pair.partition("=")
        if not sep or not names.strip():
            raise InvalidInput(f"--test {pair!r}: write KIND=TEST[,TEST...], e.g. numeric=ks,psi")
        tests[kind.strip()] = [n.strip() for n in names.split(",") if n.strip()]
    return tests


@app.command("create")
def create(
    name: NameArgument,
    reference: Annotated[
        str, typer.Option("--reference", help="Reference table version, e.g. churn-train@v3.")
    ],
    deployment: Annotated[
        str | None, typer.Option("--deployment", help="The deployment whose prediction log `run` reads.")
    ] = None,
    feature: Annotated[
        list[str] | None,
        typer.Option(
            "--feature", "-f", help="A feature to watch (repeatable; default: the model's inputs or all)."
        ),
    ] = None,
    label: Annotated[
        str | None, typer.Option("--label", help="The reference's label column (prior shift, KPIs).")
    ] = None,
    prediction: Annotated[
        str | None,
        typer.Option("--prediction", help="The reference's column of model answers, if it has one."),
    ] = None,
    categorical: Annotated[
        list[str] | None, typer.Option("--categorical", help="Treat this feature as categories (repeatable).")
    ] = None,
    numeric: Annotated[
        list[str] | None, typer.Option("--numeric", help="Treat this feature as numbers (repeatable).")
    ] = None,
    test: Annotated[
        list[str] | None,
        typer.Option("--test", help="Drift tests of a kind, the first decides: numeric=ks,psi (repeatable)."),
    ] = None,
    alpha: Annotated[float, typer.Option("--alpha", help="False-alarm rate across features.")] = 0.05,
    correction: Annotated[
        str, typer.Option("--correction", help="Across features: holm, bh or none.")
    ] = "holm",
    window: Annotated[
        str, typer.Option("--window", help="Length of a window of the log: 1h, 30m, PT1H.")
    ] = "1h",
    latency_target_ms: Annotated[
        float | None, typer.Option("--latency-target-ms", help="p95 target for the replica recommendation.")
    ] = None,
    multivariate: Annotated[
        bool, typer.Option("--multivariate", help="Also train a domain classifier per check (seconds).")
    ] = False,
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """Create a monitor; the reference's statistics are computed now, once, and stored with it.

    Example: keel monitor create churn-prod --reference churn-train@v3 --deployment churn --label churned
    """
    kinds: dict[str, Any] = {f: "categorical" for f in categorical or []}
    kinds.update({f: "numeric" for f in numeric or []})
    made = client().monitors.create(
        project=_project(project),
        name=name,
        reference=reference,
        deployment=deployment,
        features=feature or None,
        label=label,
        prediction=prediction,
        kinds=kinds or None,
        alpha=alpha,
        correction=correction,
        tests=_tests(test or []) or None,
        window=window,
        latency_target_ms=latency_target_ms,
        multivariate=multivariate,
    )
    if json_out:
        output.print_json(made)
        return
    output.done(
        f"monitor {made.name}: {len(made.features)} features of {made.reference_address} "
        f"({', '.join(f'{f}:{k[0]}' for f, k in made.kinds.items())})"
    )


@app.command("ls")
def ls(project: ProjectOption = None, json_out: JsonOption = False) -> None:
    """List the project's monitors.

    Example: keel monitor ls --json
    """
    found = client().monitors.ls(project=_project(project))
    if json_out:
        output.print_json(found)
        return
    rows = [[m.name, m.reference_address, m.deployment or "", len(m.features), m.window_s] for m in found]
    output.print_table("monitors", ["name", "reference", "deployment", "features", "window s"], rows)


@app.command("show")
def show(name: NameArgument, project: ProjectOption = None, json_out: JsonOption = False) -> None:
    """Show a monitor: reference, features and kinds, tests, alpha, window.

    Example: keel monitor show churn-prod
    """
    found = client().monitors.get(project=_project(project), name=name)
    if json_out:
        output.print_json(found)
        return
    rows = [[f, k, ",".join(found.tests[k])] for f, k in found.kinds.items()]
    output.print_table(
        f"monitor {found.name} of {found.reference_address} (alpha {found.alpha}, {found.correction})",
        ["feature", "kind", "tests"],
        rows,
    )


@app.command("rebase")
def rebase(
    name: NameArgument,
    reference: Annotated[
        str, typer.Option("--reference", help="The new reference version, e.g. churn-train@v4.")
    ],
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """Judge from now on against a new reference version (after retraining on it); statistics computed once.

    Example: keel monitor rebase churn-prod --reference churn-train@v4
    """
    found = client().monitors.rebase(project=_project(project), name=name, reference=reference)
    if json_out:
        output.print_json(found)
        return
    output.done(f"monitor {found.name} now judges against {found.reference_address}")


@app.command("rm")
def rm(name: NameArgument, project: ProjectOption = None, json_out: JsonOption = False) -> None:
    """Remove a monitor and its rules (its stored reports stay).

    Example: keel monitor rm churn-prod
    """
    removed = client().monitors.delete(project=_project(project), name=name)
    if json_out:
        output.print_json(removed)
        return
    output.done(f"removed monitor {name}")


def _read_batch(path: Path) -> Any:
    """A local Parquet or CSV file as Parquet bytes for the upload."""
    import io

    import pyarrow.parquet as pq

    from keel.core.errors import InvalidInput
    from keel.core.operations import ByteStream

    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    if path.suffix.lower() == ".csv":
        import pyarrow.csv as pacsv

        sink = io.BytesIO()
        pq.write_table(pacsv.read_csv(path), sink)
        data = sink.getvalue()
    else:
        data = path.read_bytes()
    return ByteStream([data], size=len(data))


def _show(report: Any, html: Path | None, json_out: bool) -> None:
    if html is not None:
        from keel.monitoring.html import render_html

        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(render_html(report), encoding="utf-8")
    if json_out:
        output.print_json(report)
    else:
        rows = []
        for f in [*report.drift.features, *[x for x in (report.prediction, report.label) if x is not None]]:
            name = {"__prediction__": "(prediction)", "__label__": "(label)"}.get(f.name, f.name)
            first = f.tests[0] if f.tests else None
            p = "" if first is None or first.adjusted_p is None else f"{first.adjusted_p:.3g}"
            verdict = f"skipped: {f.skipped}" if f.skipped else ("DRIFT" if f.drifted else "ok")
            rows.append(
                [name, f.kind, verdict, f.decided_by, p, "" if first is None else f"{first.effect:.3f}"]
            )
        output.print_table(
            f"{report.monitor}: {report.rows} rows from {report.source}",
            ["feature", "kind", "verdict", "test", "p (corrected)", "effect"],
            rows,
        )
        if report.kpis is not None:
            metrics = ", ".join(f"{k} {v:.3f}" for k, v in report.kpis.metrics.items())
            output.line(
                f"live KPIs on {report.kpis.labeled} labelled rows: {metrics} ({report.kpis.report.summary()})"
            )
        if report.infra is not None and report.infra.latency_p95_ms is not None:
            i = report.infra
            output.line(
                f"serving: {i.requests} requests, {i.throughput_rps:.2f} rows/s, "
                f"p50 {i.latency_p50_ms:.1f} ms, p95 {i.latency_p95_ms:.1f} ms, p99 {i.latency_p99_ms:.1f} ms"
            )
        if report.multivariate is not None:
            m = report.multivariate
            verdict = "DRIFT" if m.drifted else "ok"
            output.line(
                f"multivariate: domain classifier AUC {m.auc:.3f} against a baseline of {m.baseline_mean:.3f} "
                f"(95% {m.baseline_p95:.3f}), p {m.p_value:.3g}: {verdict}"
            )
        for note in report.notes:
            output.line(note)
        for alert in report.alerts:
            output.line(f"alert {alert.expression} (value {alert.value:g}): {alert.state}, {alert.delivery}")
        verdict = (
            f"drift in {len(report.drift.drifted)} of {len(report.drift.features)} features "
            f"({', '.join(report.drift.drifted)})"
            if report.drift.drifted
            else "no feature drifted"
        )
        if report.prediction is not None and report.prediction.drifted:
            verdict += "; predictions drifted"
        output.line(f"{verdict}; evaluation {report.id}")
        if html is not None:
            output.line(f"HTML report: {html}")
    if report.drifted:
        raise typer.Exit(1)


@app.command("check")
def check(
    name: NameArgument,
    batch: Annotated[Path | None, typer.Argument(help="A Parquet or CSV file of rows to judge.")] = None,
    version: Annotated[
        str | None, typer.Option("--version", help="Judge a table version instead, e.g. churn-day@v2.")
    ] = None,
    html: HtmlOption = None,
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """Judge a batch (or a table version) against the reference; store the report; exit 1 on drift.

    Example: keel monitor check churn-prod today.parquet --html report.html
    """
    from keel.core.errors import InvalidInput

    proj = _project(project)
    if (batch is None) == (version is None):
        raise InvalidInput("give a batch file or --version, not both and not neither")
    if version is not None:
        from keel.datasets.address_syntax import split_address

        address = split_address(version)
        report = client().monitors.check_version(
            project=address.project or proj, name=name, dataset=address.name, version=address.selector
        )
    else:
        assert batch is not None
        report = client().monitors.check(project=proj, name=name, data=_read_batch(batch))
    _show(report, html, json_out)


@app.command("run")
def run(
    name: NameArgument,
    window: Annotated[
        str | None,
        typer.Option(
            "--window", help="START/DURATION, e.g. 2026-11-29T10:00/PT1H (default: the last window)."
        ),
    ] = None,
    html: HtmlOption = None,
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """Evaluate a window of the deployment's prediction log; store the report; exit 1 on drift.

    Example: keel monitor run churn-prod --window 2026-11-29T10:00/PT1H
    """
    since = until = None
    if window is not None:
        from keel.monitoring.window import parse_window

        since, until = parse_window(window)
    report = client().monitors.run(project=_project(project), name=name, since=since, until=until)
    _show(report, html, json_out)


@app.command("report")
def report(
    name: NameArgument,
    evaluation: Annotated[
        str, typer.Option("--evaluation", help="An evaluation id (default: the latest).")
    ] = "latest",
    html: HtmlOption = None,
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """Show a stored report (per-feature reference vs current); exit 1 when it found drift.

    Example: keel monitor report churn-prod --html report.html
    """
    found = client().monitors.report(project=_project(project), name=name, evaluation=evaluation)
    _show(found, html, json_out)


@app.command("history")
def history(
    name: NameArgument,
    limit: Annotated[int, typer.Option("--limit", help="At most this many evaluations.")] = 50,
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """List a monitor's evaluations, newest first, with their verdicts.

    Example: keel monitor history churn-prod --json
    """
    found = output.all_pages(
        lambda **kw: client().monitors.evaluations(project=_project(project), name=name, **kw), limit
    )
    if json_out:
        output.print_json(found)
        return
    rows = [
        [
            e.id,
            e.created_at.isoformat(timespec="seconds"),
            e.source,
            e.rows,
            "DRIFT" if e.drifted else "ok",
            f"{e.drift_share:.2f}",
        ]
        for e in found
    ]
    output.print_table(f"evaluations of {name}", ["id", "at", "source", "rows", "verdict", "share"], rows)


@app.command("infra")
def infra(
    name: NameArgument,
    window: Annotated[
        str | None, typer.Option("--window", help="START/DURATION (default: the last window).")
    ] = None,
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """Serving health of the monitor's deployment: latency p50/p95/p99, throughput, versions, replicas.

    Example: keel monitor infra churn-prod --json
    """
    since = until = None
    if window is not None:
        from keel.monitoring.window import parse_window

        since, until = parse_window(window)
    found = client().monitors.infra(project=_project(project), name=name, since=since, until=until)
    if json_out:
        output.print_json(found)
        return

    def ms(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.1f} ms"

    output.line(
        f"{found.requests} requests, {found.rows} rows, {found.throughput_rps:.2f} rows/s; latency p50 "
        f"{ms(found.latency_p50_ms)}, p95 {ms(found.latency_p95_ms)}, p99 {ms(found.latency_p99_ms)}"
    )
    if found.replicas_recommended is not None:
        output.line(
            f"replicas recommended for p95 <= {found.latency_target_ms:g} ms: {found.replicas_recommended}"
        )


@app.command("alerts")
def alerts(
    monitor: Annotated[str | None, typer.Option("--monitor", help="Only this monitor's alerts.")] = None,
    state: Annotated[str | None, typer.Option("--state", help="firing or resolved.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 100,
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """List the project's alert events, newest first.

    Example: keel monitor alerts --state firing --json
    """
    found = client().monitors.alerts(project=_project(project), monitor=monitor, state=state, limit=limit)
    if json_out:
        output.print_json(found)
        return
    rows = [
        [
            a.id,
            a.monitor,
            a.expression,
            f"{a.value:g}",
            a.state,
            a.repeats,
            a.delivery,
            a.fired_at.isoformat(timespec="seconds"),
        ]
        for a in found
    ]
    output.print_table(
        "alerts", ["id", "monitor", "rule", "value", "state", "repeats", "delivery", "fired"], rows
    )


@rule_app.command("add")
def rule_add(
    monitor: Annotated[str, typer.Argument(help="The monitor whose figures the rule reads.")],
    expression: Annotated[str, typer.Argument(help="FIGURE COMPARATOR NUMBER, e.g. 'drift.share > 0.3'.")],
    sink: Annotated[str, typer.Option("--sink", help="log, webhook:<url> or retrain.")] = "log",
    cooldown: Annotated[
        str, typer.Option("--cooldown", help="Quiet time after an alert: 1h, 30m, PT1H.")
    ] = "1h",
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """Add an alert rule; prints the webhook signing secret once.

    Example: keel monitor rule add churn-prod 'drift.share > 0.3' --sink webhook:https://hooks.example.com/keel
    """
    from keel.monitoring.window import parse_duration

    added = client().monitors.add_rule(
        project=_project(project),
        monitor=monitor,
        expression=expression,
        sink=sink,
        cooldown_s=parse_duration(cooldown),
    )
    if json_out:
        output.print_json(added)
        return
    output.done(f"rule {added.id}: {added.expression} -> {added.sink} (cooldown {added.cooldown_s} s)")
    if added.secret and added.sink.startswith("webhook:"):
        output.secret(
            "webhook signing secret (X-Keel-Signature: sha256=HMAC of the body), shown once", added.secret
        )


@rule_app.command("ls")
def rule_ls(
    monitor: Annotated[str, typer.Argument(help="The monitor.")],
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """List a monitor's alert rules.

    Example: keel monitor rule ls churn-prod
    """
    found = client().monitors.rules(project=_project(project), monitor=monitor)
    if json_out:
        output.print_json(found)
        return
    output.print_table(
        f"rules of {monitor}",
        ["id", "rule", "sink", "cooldown s"],
        [[r.id, r.expression, r.sink, r.cooldown_s] for r in found],
    )


@rule_app.command("rm")
def rule_rm(
    monitor: Annotated[str, typer.Argument(help="The monitor.")],
    rule: Annotated[str, typer.Argument(help="The rule's id.")],
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """Remove an alert rule (its events stay).

    Example: keel monitor rule rm churn-prod 01JD3...
    """
    removed = client().monitors.delete_rule(project=_project(project), monitor=monitor, rule=rule)
    if json_out:
        output.print_json(removed)
        return
    output.done(f"removed rule {rule}")
