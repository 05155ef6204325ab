"""Comparing runs side by side: params that differ, final metrics, KPI verdicts -- as a table or Markdown."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from keel.tracking.schemas import RunRecord


class Comparison(BaseModel):
    """Runs side by side: one row per param and per metric, one column per run."""

    runs: list[str]
    names: list[str]
    params: list[tuple[str, list[Any], bool]]  # key, values, differs
    metrics: list[tuple[str, list[float | None], int | None]]  # key, values, index of the best (max)
    kpis: list[str | None]


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else f"{value:.6g}"
    return str(value)


def compare(runs: Sequence[RunRecord]) -> Comparison:
    """Build the comparison; metrics' ``best`` marks the highest value (read it as "highest")."""
    param_keys = sorted({k for r in runs for k in r.params})
    metric_keys = sorted({k for r in runs for k in r.metrics if not k.startswith("system/")})
    params = []
    for key in param_keys:
        values = [r.params.get(key) for r in runs]
        params.append((key, values, len({repr(v) for v in values}) > 1))
    metrics = []
    for key in metric_keys:
        values = [r.metrics.get(key) for r in runs]
        finite = [(v, i) for i, v in enumerate(values) if v is not None and not math.isnan(v)]
        best = max(finite)[1] if len(finite) > 1 else None
        metrics.append((key, values, best))
    return Comparison(
        runs=[r.id for r in runs],
        names=[r.name for r in runs],
        params=params,
        metrics=metrics,
        kpis=[r.kpi_report.summary() if r.kpi_report else None for r in runs],
    )


def rows(comparison: Comparison) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of a plain table: params (``*`` marks a difference), then metrics, then KPIs."""
    header = ["", *comparison.names]
    out: list[list[str]] = []
    for key, values, differs in comparison.params:
        out.append([f"{'* ' if differs else ''}params.{key}", *(_fmt(v) for v in values)])
    for key, numbers, best in comparison.metrics:
        out.append(
            [f"metrics.{key}", *(_fmt(v) + (" (max)" if i == best else "") for i, v in enumerate(numbers))]
        )
    if any(comparison.kpis):
        out.append(["KPIs", *(k or "" for k in comparison.kpis)])
    return header, out


def markdown(comparison: Comparison) -> str:
    """The comparison as a GitHub Markdown table, for a pull-request comment."""
    header, body = rows(comparison)
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in body),
    ]
    return "\n".join(lines) + "\n"
