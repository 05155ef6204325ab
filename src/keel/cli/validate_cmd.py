"""``keel data suite infer`` and ``keel data validate``: data validation, registered into ``keel data``.

The commands live here, not in ``data_cmd``, so the data group stays one
owner's; :func:`register` adds them to its Typer. Both call the ``validation``
service, so they answer the same against a workspace and a server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from keel.cli import output
from keel.cli.state import client

suite_app = typer.Typer(
    help="Validation suites: the rules new data must meet.\n\nExample: keel data suite infer churn-train@v3 --out suites/churn.yaml",
    no_args_is_help=True,
)

ProjectOpt = Annotated[
    str | None, typer.Option("--project", "-p", help="Project (default: the project setting).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _resolve(address: str, project: str | None) -> tuple[Any, str, str, str]:
    """The client, project, dataset name and version selector an address means."""
    from keel.data.addresses import project_of
    from keel.datasets.address_syntax import split_address

    c = client()
    parsed = split_address(address)
    default = project or (c.settings.project if c.settings else None)
    return c, project_of(parsed, default), parsed.name, parsed.selector


@suite_app.command("infer")
def infer(
    address: Annotated[str, typer.Argument(help="The reference version (name@v3).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the suite's YAML.")],
    name: Annotated[str | None, typer.Option("--name", help="Suite name (default: the dataset's).")] = None,
    project: ProjectOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Infer a suite from a reference version and write it as YAML to review and edit.

    Example: keel data suite infer churn-train@v3 --out suites/churn.yaml
    """
    c, proj, dataset, version = _resolve(address, project)
    suite = c.validation.infer_suite(project=proj, dataset=dataset, version=version, name=name)
    suite.save(out)
    if json_out:
        output.print_json({"suite": str(out), "columns": list(suite.columns), "reference": suite.reference})
        return
    output.done(f"wrote {out}: {len(suite.columns)} column(s), reference {suite.reference}")


def validate(
    address: Annotated[str, typer.Argument(help="The version to check (name@v1).")],
    suite_path: Annotated[Path, typer.Option("--suite", "-s", help="The suite's YAML file.")],
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write the report as one self-contained HTML file.")
    ] = None,
    run: Annotated[str | None, typer.Option("--run", help="Link the report to this run (its id).")] = None,
    project: ProjectOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Check a version against a suite; store the report; exit 1 when a check fails.

    Example: keel data validate churn-new@v1 --suite suites/churn.yaml --html report.html
    """
    from keel.validation.suite import load_suite

    suite = load_suite(suite_path)
    c, proj, dataset, version = _resolve(address, project)
    report = c.validation.validate(project=proj, dataset=dataset, version=version, suite=suite, run=run)
    if html is not None:
        from keel.validation.html import render_html

        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(render_html(report), encoding="utf-8")
    if json_out:
        output.print_json(report)
    else:
        _print(report, html)
    if not report.passed:
        raise typer.Exit(1)


def _print(report: Any, html: Path | None) -> None:
    rows = [
        [r.column or "(table)", r.check, r.verdict, _short(r.observed), _short(r.threshold), r.message]
        for r in report.results
    ]
    output.print_table(
        f"{report.address} against {report.suite}",
        ["column", "check", "verdict", "observed", "threshold", "message"],
        rows,
    )
    for r in report.failures():
        if r.failing_rows:
            sample = ", ".join(f"row {f.index}: {f.value!r}" for f in r.failing_rows[:5])
            output.line(f"{r.column} {r.check}: {r.failing_count} failing row(s), e.g. {sample}")
    for a in report.anomalies:
        where = f" in {a.column}" if a.column else ""
        output.line(
            f"anomaly: {a.count} {a.kind.replace('_', ' ')}{where} (rows {', '.join(str(f.index) for f in a.rows[:5])})"
        )
    if html is not None:
        output.line(f"HTML report: {html}")
    verdict = "passed" if report.passed else f"FAILED ({report.failed} of {report.checks} checks)"
    output.line(f"report {report.id}: {verdict}")


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_short(v)}" for k, v in value.items())
    if isinstance(value, list):  # no brackets: Rich would read "[basic, pro]" as markup and drop it
        return ", ".join("-" if v is None else _short(v) for v in value)
    return "" if value is None else str(value)


def register(app: typer.Typer) -> None:
    """Add ``suite infer`` and ``validate`` to the ``keel data`` group."""
    app.add_typer(suite_app, name="suite")
    app.command("validate")(validate)
