"""What the prediction log's operations take and return."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from keel.core.constraints import worded

RequestId = Annotated[str, StringConstraints(min_length=1, max_length=200)]
#: A batch scoring's output and model, as the spec states them (the service checks they exist).
DatasetVersionRef = Annotated[
    str,
    StringConstraints(pattern=r"^dataset_version:[A-Za-z0-9._@/\-]{1,200}$"),
    worded(lambda v: f"output {v!r} is not a dataset_version:<id> reference"),
]
ModelVersionRef = Annotated[
    str,
    StringConstraints(pattern=r"^model_version:[A-Za-z0-9._@/\-]{1,200}$"),
    worded(lambda v: f"model_version {v!r} is not a model_version:<id> reference"),
]
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


class Pruned(BaseModel):
    """What a retention prune removed."""

    deployment: str
    segments: int
    rows: int
    labels: int
