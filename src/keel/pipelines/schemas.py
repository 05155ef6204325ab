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
