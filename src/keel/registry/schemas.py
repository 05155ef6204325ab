"""What the registry's operations take and return."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Final

from pydantic import BaseModel, Field, StringConstraints

from keel.core.errors import InvalidInput
from keel.core.kpi import KPIReport
from keel.lineage import Edge

ModelName = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", min_length=1, max_length=100)
]
_ALIAS: Final = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,99}$")
#: Aliases only a project admin may move, and only through the KPI gate (or an override), unless the
#: project's policy (:mod:`keel.registry.policy`) names others.
DEFAULT_PROTECTED: Final = frozenset({"production"})


def check_alias(alias: str) -> str:
    """An alias is a name, never a number (``churn@3`` always means version 3)."""
    if alias.isdigit():
        raise InvalidInput(
            f"alias {alias!r} is a number; `name@{alias}` means version {alias}, so pick a word"
        )
    if not _ALIAS.match(alias):
        raise InvalidInput(
            f"alias {alias!r} is not a valid name: start with a letter; letters, digits, '_' and '-' only"
        )
    return alias


class ModelVersion(BaseModel):
    """One registered version: its package, where it came from, and the aliases it holds."""

    id: str
    project: str
    model: str
    number: int
    package_digest: str
    flavor: str
    run_id: str | None
    size: int
    description: str
    tags: dict[str, str]
    status: str
    aliases: list[str]
    created_by: str
    created_at: datetime
    manifest: dict[str, Any]

    @property
    def ref(self) -> str:
        return f"model_version:{self.id}"

    @property
    def unsafe_pickle(self) -> bool:
        return bool(self.manifest.get("unsafe_pickle"))


class RegisteredModel(BaseModel):
    """A model: its versions' count, its latest number and who holds each alias."""

    id: str
    project: str
    name: str
    description: str
    tags: dict[str, str]
    latest_version: int | None
    versions: int
    aliases: dict[str, int]
    created_at: datetime
    updated_at: datetime


class GateReport(BaseModel):
    """The promotion gate's verdict on one version: the project's offline KPIs against its metrics."""

    version: ModelVersion
    metrics: dict[str, float]
    metrics_source: str
    kpi_report: KPIReport
    passed: bool
    #: What validation said, when the project's policy requires its evidence (None otherwise).
    validation: str | None = None


class Promotion(BaseModel):
    """What a promotion did: the alias, the previous holder, the gate, whether an admin overrode it."""

    alias: str
    version: ModelVersion
    previous_version: int | None
    gate: GateReport
    forced: bool
    reason: str | None


class ModelLineage(BaseModel):
    """What made the version (upstream) and what uses it (downstream)."""

    ref: str
    upstream: list[Edge]
    downstream: list[Edge]


class ModelPolicy(BaseModel):
    """A project's registry policy: aliases only admins move (by promote), and retention."""

    project: str
    protected_aliases: list[str]
    keep_last: int | None = Field(
        description="keep this many newest unaliased versions per model, archive older ones; None: keep all"
    )
    updated_by: str | None = None
    updated_at: datetime | None = None


class RetentionReport(BaseModel):
    """What retention archived (or, in a dry run, would archive): version numbers by model."""

    project: str
    keep_last: int | None
    archived: dict[str, list[int]]
    dry_run: bool
