"""What the tracking operations take and return."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_serializer

from keel.core.constraints import PointKey
from keel.core.kpi import KPIReport
from keel.tracking.values import Int64, Number, json_safe

RunStatus = Literal["RUNNING", "FINISHED", "FAILED", "KILLED"]
END_STATUSES: tuple[str, ...] = ("FINISHED", "FAILED", "KILLED")

#: One metric point as it travels in a batch: (key, value, step, timestamp in Unix ms).
PointTuple = tuple[PointKey, Number, Int64, Int64]
#: One key's points as columns: ([steps], [timestamps in Unix ms], [values]).
SeriesColumns = tuple[list[Int64], list[Int64], list[Number]]
#: A logging client's id, as it names its batches (the SDK sends 32 hex digits).
ClientId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")]


class MetricPoint(BaseModel):
    """One logged value of a metric."""

    key: str
    value: Number
    step: int
    timestamp: int  # Unix milliseconds


class RunArtifact(BaseModel):
    """A file a run produced: its path within the run and its object in the artifact store."""

    path: str
    digest: str
    size: int
    created_at: datetime


class RunRecord(BaseModel):
    """A stored run with everything known about it: params, tags, final metrics, KPIs, cost, environment.

    What the runs service returns; the object a training script logs through
    is :class:`keel.Run` (``keel.start_run``), which holds one of these as ``info``.
    """

    id: str
    project: str
    project_id: str
    name: str
    status: RunStatus
    parent_id: str | None
    user: str
    start_time: datetime
    end_time: datetime | None
    duration: float | None = Field(description="seconds, set when the run ends")
    hourly_price: float | None
    cost: float | None = Field(description="duration x hourly price, set when the run ends")
    energy_kwh: float | None
    kpi_report: KPIReport | None
    kpi_passed: bool | None
    deleted: bool
    params: dict[str, Any] = {}
    tags: dict[str, str] = {}
    metrics: dict[str, Number] = {}
    environment: dict[str, Any] = {}
    artifacts: list[RunArtifact] = []

    @field_serializer("kpi_report", when_used="json")
    def _kpi_report_json(self, report: KPIReport | None) -> Any:
        return None if report is None else json_safe(report.model_dump(mode="json"))

    @property
    def ref(self) -> str:
        return f"run:{self.id}"


class RunSummary(BaseModel):
    """A run as search returns it: attributes plus the params and final metrics asked for."""

    id: str
    name: str
    status: RunStatus
    parent_id: str | None
    user: str
    start_time: datetime
    end_time: datetime | None
    duration: float | None
    cost: float | None
    kpi_passed: bool | None
    kpi_summary: str | None
    params: dict[str, Any] = {}
    metrics: dict[str, Number] = {}
    tags: dict[str, str] = {}


class BatchResult(BaseModel):
    """What a logging batch stored; ``duplicate`` when this (client, sequence) was stored before."""

    metrics: int
    params: int
    tags: int
    duplicate: bool = False


class CostSummary(BaseModel):
    """Cost and GPU energy of a project's runs, summed."""

    project: str
    runs: int
    cost: float
    energy_kwh: float
    duration: float
