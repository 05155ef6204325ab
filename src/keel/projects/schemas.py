"""What the projects operations take and return."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, StringConstraints

from keel.core.kpi import KPI

ProjectName = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", min_length=1, max_length=100)
]


class Project(BaseModel):
    """A project: the problem, the objectives and the KPIs that decide whether a model ships."""

    id: str
    name: str
    description: str
    objectives: list[str]
    kpis: list[KPI]
    owner: str
    created_at: datetime
    updated_at: datetime

    @property
    def ref(self) -> str:
        return f"project:{self.id}"
