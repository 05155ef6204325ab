"""Search results as a pandas DataFrame, with MLflow's column names (``params.lr``, ``metrics.auc``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from keel.tracking.schemas import RunSummary

ATTRIBUTE_COLUMNS = (
    "run_id",
    "name",
    "status",
    "parent_id",
    "user",
    "start_time",
    "end_time",
    "duration",
    "cost",
    "kpi_passed",
    "kpi",
)


def runs_frame(runs: Sequence[RunSummary]) -> Any:
    """One row per run: attributes, then ``params.*``, ``metrics.*`` and ``tags.*`` columns, sorted."""
    import pandas as pd

    records: list[dict[str, Any]] = []
    params: set[str] = set()
    metrics: set[str] = set()
    tags: set[str] = set()
    for run in runs:
        record: dict[str, Any] = {
            "run_id": run.id,
            "name": run.name,
            "status": run.status,
            "parent_id": run.parent_id,
            "user": run.user,
            "start_time": run.start_time,
            "end_time": run.end_time,
            "duration": run.duration,
            "cost": run.cost,
            "kpi_passed": run.kpi_passed,
            "kpi": run.kpi_summary,
        }
        for key, value in run.params.items():
            record[f"params.{key}"] = value
            params.add(key)
        for key, number in run.metrics.items():
            record[f"metrics.{key}"] = number
            metrics.add(key)
        for key, text in run.tags.items():
            record[f"tags.{key}"] = text
            tags.add(key)
        records.append(record)
    columns = [
        *ATTRIBUTE_COLUMNS,
        *(f"params.{k}" for k in sorted(params)),
        *(f"metrics.{k}" for k in sorted(metrics)),
        *(f"tags.{k}" for k in sorted(tags)),
    ]
    return pd.DataFrame.from_records(records, columns=columns)
