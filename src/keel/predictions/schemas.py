"""What the prediction log's operations take and return."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

RequestId = Annotated[str, StringConstraints(min_length=1, max_length=200)]
LabelValue = bool | int | float | str


class Label(BaseModel):
    """The ground truth for one logged row: its request id (``id``, or ``id:row``) and the value."""

    request_id: RequestId
    value: LabelValue


class Labeled(BaseModel):
    """What a label call recorded."""

    deployment: str
    labels: int = Field(description="labels recorded")


class Prediction(BaseModel):
    """One logged row: when, by which version, how fast, what came in and out, and its label if any."""

    request_id: str
    at: datetime
    model_version: int
    latency_ms: float
    inputs: dict[str, Any]
    output: Any
    label: Any | None = None
    labeled: bool = False


class Scoring(BaseModel):
    """A batch scoring's lineage edge: the output dataset version was predicted by the model version."""

    output: str
    relation: str
    model_version: str
