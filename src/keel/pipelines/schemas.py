"""What the pipelines operations answer with."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

StepStatus = Literal["PENDING", "RUNNING", "FINISHED", "CACHED", "FAILED", "SKIPPED"]
RunStatus = Literal["RUNNING", "FINISHED", "FAILED"]


class StepPlan(BaseModel):
    """A step as planned before the run: its name, what it depends on, its params."""

    name: str
    upstream: list[str] = []
    params: dict[str, Any] = {}


class StepUpdate(BaseModel):
    """What became of one step, as the driver reports it."""

    name: str
    status: StepStatus
    cached: bool = False
    cache_key: str | None = None
    output_digest: str | None = None
    output_format: str | None = None
    run_id: str | None = None
    duration_s: float | None = None
    error: str | None = None
    #: Digests of the artifacts the step read (lineage edges from its run).
    inputs: list[str] = []


class StepRecord(BaseModel):
    """One step of a pipeline run as recorded."""

    name: str
    position: int
    upstream: list[str]
    params: dict[str, Any]
    status: StepStatus
    cached: bool
    cache_key: str | None
    output_digest: str | None
    output_format: str | None
    run_id: str | None
    duration_s: float | None
    error: str | None


class PipelineRun(BaseModel):
    """A pipeline run with its steps (in DAG order)."""

    id: str
    project: str
    pipeline: str
    target: str
    status: RunStatus
    params: dict[str, Any]
    run_id: str | None
    failed_step: str | None
    error: str | None
    started_at: datetime
    ended_at: datetime | None
    steps: list[StepRecord] = []


class CacheEntry(BaseModel):
    """A cached step output: where its bytes are and how to read them."""

    cache_key: str
    output_digest: str
    output_format: str
    #: The step run that computed it (None when that record is gone).
    run_id: str | None = None


FiringStatus = Literal["PENDING", "CLAIMED", "DONE", "FAILED"]


class Trigger(BaseModel):
    """A pipeline registered as a project's retraining target, and the event that starts it."""

    id: str
    project: str
    target: str
    event: str
    params: dict[str, Any]
    cooldown_s: int
    enabled: bool
    created_by: str
    created_at: datetime


class Firing(BaseModel):
    """One firing of a trigger: why, its state, and the pipeline run it started."""

    id: str
    trigger_id: str
    project: str
    event: str
    reason: str
    dedup_key: str
    status: FiringStatus
    claimed_by: str | None
    pipeline_run_id: str | None
    error: str | None
    created_at: datetime
    ended_at: datetime | None


class FireResult(BaseModel):
    """What one trigger did with an event: queued a firing, or why not (a duplicate, its cooldown)."""

    trigger_id: str
    fired: bool
    firing: Firing | None = None
    why_not: str | None = None
