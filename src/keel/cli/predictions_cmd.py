"""``keel predictions``: a deployment's prediction log and the labels that arrive later."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from keel.cli import output
from keel.cli.state import chosen_project as _project
from keel.cli.state import client

app = typer.Typer(
    help="The prediction log of a deployment (what `keel serve` answered) and its delayed labels.\n\n"
    "Example: keel predictions label churn-prod --file labels.csv",
    no_args_is_help=True,
)

ProjectOption = Annotated[
    str | None, typer.Option("--project", "-p", help="Project (default: the `project` setting).")
]
DeploymentArg = Annotated[str, typer.Argument(help="The deployment (`keel deploy ls`).")]


def _value(text: str) -> bool | int | float | str:
    """A CSV cell as the label it means: an integer, a number, true/false, else the text."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    return text


def read_labels(path: Path, id_column: str, label_column: str) -> list[dict[str, Any]]:
    """The (request id, value) pairs of a CSV file with a header; InvalidInput naming what is missing."""
    import csv

    from keel.core.errors import InvalidInput, NotFound

    if not path.is_file():
        raise NotFound(f"no such file: {path}")
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        for column in (id_column, label_column):
            if column not in header:
                raise InvalidInput(
                    f"{path} has no column {column!r} (its header: {', '.join(header) or 'empty'})",
                    hint="name the columns with --id-column and --label-column",
                )
        rows = []
        for number, row in enumerate(reader, start=2):
            request_id, value = (row.get(id_column) or "").strip(), row.get(label_column)
            if not request_id or value is None or value == "":
                raise InvalidInput(f"{path} line {number}: a label needs a request id and a value")
            rows.append({"request_id": request_id, "value": _value(value)})
    return rows


def _when(text: str | None, what: str) -> datetime | None:
    """``1h`` (that long ago) or an ISO time, as a UTC time."""
    if text is None:
        return None
    from datetime import UTC

    from keel.auth.durations import parse_duration
    from keel.core.timeutil import utcnow

    try:
        parsed = datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except ValueError:
        return utcnow() - parse_duration(text, what=what)


@app.command("label")
def label(
    deployment: DeploymentArg,
    file: Annotated[Path, typer.Option("--file", "-f", help="CSV with a header: request id, label.")],
    id_column: Annotated[str, typer.Option("--id-column", help="The request id's column.")] = "request_id",
    label_column: Annotated[str, typer.Option("--label-column", help="The label's column.")] = "label",
    project: ProjectOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Record the ground truth for logged predictions, joined by request id (all or nothing).

    Example: keel predictions label churn-prod --file labels.csv
    """
    labels = read_labels(file, id_column, label_column)
    done = client().predictions.label(project=_project(project), deployment=deployment, labels=labels)
    if json_out:
        output.print_json(done)
        return
    output.done(f"{done.labels} labels recorded for {deployment}")


@app.command("ls")
def ls(
    deployment: DeploymentArg,
    since: Annotated[str | None, typer.Option("--since", help="From: 1h (ago) or an ISO time.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Until before: 10m or an ISO time.")] = None,
    labeled: Annotated[bool, typer.Option("--labeled", help="Only rows with a label.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000, help="The newest N rows.")] = 100,
    project: ProjectOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List a deployment's logged predictions with their labels, oldest first.

    Example: keel predictions ls churn-prod --since 1h --labeled --json
    """
    rows = client().predictions.ls(
        project=_project(project),
        deployment=deployment,
        since=_when(since, "since"),
        until=_when(until, "until"),
        labeled_only=labeled,
        limit=limit,
    )
    if json_out:
        output.print_json(rows)
        return
    table = [
        [
            r.request_id,
            r.at.isoformat(timespec="milliseconds"),
            r.model_version,
            f"{r.latency_ms:.2f}",
            r.output,
            r.label if r.labeled else "",
        ]
        for r in rows
    ]
    columns = ["request id", "at", "version", "ms", "output", "label"]
    output.print_table(f"predictions of {deployment}", columns, table)


@app.command("prune")
def prune(
    deployment: DeploymentArg,
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than", help="Drop the log older than this (30d, 12h); default: the deployment's setting."
        ),
    ] = None,
    project: ProjectOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Drop a deployment's prediction log older than its retention window (project admins).

    Example: keel predictions prune churn-prod --older-than 30d
    """
    days = None
    if older_than is not None:
        from keel.auth.durations import parse_duration

        days = parse_duration(older_than, what="--older-than").total_seconds() / 86400
    done = client().predictions.prune(project=_project(project), deployment=deployment, older_than_days=days)
    if json_out:
        output.print_json(done)
        return
    output.done(f"dropped {done.segments} segments ({done.rows} rows, {done.labels} labels) of {deployment}")
