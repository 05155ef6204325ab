"""Tracking (L2, Experimentation): runs with params, metrics, tags, artifacts, lineage, KPIs and cost.

The objects a user meets:

- a *run* (stored as a :class:`RunRecord`; logged through ``keel.Run``) belongs to a project and records params (immutable,
  typed), metrics (every point, and each key's final value), tags, artifacts,
  the environment it ran in, its system usage, cost and KPI report;
- :class:`RunService` is its operations (REST routes and SDK calls derive
  from them); ``keel.search_runs`` speaks the filter language of
  :mod:`keel.tracking.filter`;
- :class:`keel.tracking.logger.RunLogger` is the client side: a bounded buffer
  drained by a background writer, so logging never stalls training.
"""

from keel.tracking.schemas import BatchResult, CostSummary, MetricPoint, RunArtifact, RunRecord, RunSummary
from keel.tracking.service import RunLineage, RunService

__all__ = [
    "BatchResult",
    "CostSummary",
    "MetricPoint",
    "RunArtifact",
    "RunLineage",
    "RunRecord",
    "RunService",
    "RunSummary",
]
