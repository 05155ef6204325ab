"""Prediction log operations: label logged rows, and read a deployment's log with its labels."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from keel.context import Service
from keel.core.errors import InvalidInput
from keel.core.operations import Action, operation, project_from
from keel.predictions.labels import record_labels
from keel.predictions.models import LabelRow, PredictionRow, SegmentRow
from keel.predictions.owner import check_in_project
from keel.predictions.query import window
from keel.predictions.retention import prune as prune_log
from keel.predictions.schemas import (
    DatasetVersionRef,
    Label,
    Labeled,
    ModelVersionRef,
    Prediction,
    Pruned,
    Scoring,
)
from keel.predictions.scoring import record_scoring

BASE = "/api/v1/projects/{project}/deployments/{deployment}"
TABLES = (SegmentRow, PredictionRow, LabelRow)  # imported for their metadata (migrations, schema checks)


class PredictionService(Service):
    """What deployments answered, and the ground truth that arrived later."""

    name = "predictions"

    @operation(
        "POST", BASE + "/labels", action=Action.WRITE, project=project_from("project"), status_code=201
    )
    def label(self, project: str, deployment: str, labels: list[Label]) -> Labeled:
        """Record ground truth for logged rows by request id (``id``, or ``id:row`` in multi-row requests).

        All or nothing: an id the log does not hold (NotFound), an id given
        twice (InvalidInput) or labeled before (Conflict) records none of them.
        """
        project_id, _ = check_in_project(self.ctx, project, deployment)
        return Labeled(deployment=deployment, labels=record_labels(self.ctx, project_id, deployment, labels))

    @operation(
        "POST", "/api/v1/projects/{project}/scorings", action=Action.WRITE, project=project_from("project")
    )
    def record_scoring(
        self, project: str, output: DatasetVersionRef, model_version: ModelVersionRef
    ) -> Scoring:
        """Record that dataset version ``output`` holds predictions of ``model_version`` (a lineage edge).

        ``keel model predict`` calls it after writing the scores; both must be
        the project's (NotFound otherwise).
        """
        src, relation, dst = record_scoring(self.ctx, project, output, model_version)
        return Scoring(output=src, relation=relation, model_version=dst)

    @operation("POST", BASE + "/predictions/prune", action=Action.ADMIN, project=project_from("project"))
    def prune(
        self, project: str, deployment: str, older_than_days: Annotated[float, Field(gt=0)] | None = None
    ) -> Pruned:
        """Drop the log older than ``older_than_days`` (default: the deployment's ``log_retention_days``).

        Segments, their rows and those rows' labels go together (project
        admins; an audit event). InvalidInput when neither names a window.
        """
        _, deployment_id = check_in_project(self.ctx, project, deployment)
        days = older_than_days
        if days is None:
            from keel.registry.deployments import locate

            setting = locate(self.ctx, deployment)[0].settings.get("log_retention_days")
            if setting is None:
                raise InvalidInput(
                    f"deployment {deployment!r} has no log_retention_days setting; name older_than_days"
                )
            days = float(setting)
        segments, rows, labels = prune_log(self.ctx, deployment, deployment_id, days)
        return Pruned(deployment=deployment, segments=segments, rows=rows, labels=labels)

    @operation("GET", BASE + "/predictions", action=Action.READ, project=project_from("project"))
    def ls(
        self,
        project: str,
        deployment: str,
        since: datetime | None = None,
        until: datetime | None = None,
        labeled_only: bool = False,
        limit: Annotated[int, Field(ge=1, le=10_000)] = 1000,
    ) -> list[Prediction]:
        """The deployment's logged rows from ``since`` until before ``until``, newest last, with labels.

        At most ``limit`` rows (the newest); ``keel.predictions.query.window``
        reads any number as one Arrow table.
        """
        if since is not None and until is not None and since >= until:
            raise InvalidInput(f"since ({since.isoformat()}) must be before until ({until.isoformat()})")
        check_in_project(self.ctx, project, deployment)
        table = window(self.ctx, deployment, since, until, labeled_only=labeled_only)
        table = table.slice(max(0, table.num_rows - limit))
        fixed = {"request_id", "at", "model_version", "latency_ms", "output", "label", "labeled"}
        inputs = [c for c in table.column_names if c not in fixed]
        out = []
        for row in table.to_pylist():
            out.append(
                Prediction(
                    request_id=row["request_id"],
                    at=row["at"],
                    model_version=row["model_version"],
                    latency_ms=row["latency_ms"],
                    inputs={_input_name(c): row[c] for c in inputs},
                    output=row["output"],
                    label=row["label"],
                    labeled=row["labeled"],
                )
            )
        return out


def _input_name(column: str) -> str:
    return column.removeprefix("input.") if column != "input" else column


__all__ = ["PredictionService"]
