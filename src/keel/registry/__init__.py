"""The model registry (L2): models per project, versions, aliases, a KPI-gated promotion, rollback.

A version is a model package (:mod:`keel.models`) stored as one artifact
tree; the registry records it, references it, links it to the run that made
it, and moves aliases (``churn@production``) through the promotion gate.
"""

from keel.registry.schemas import GateReport, ModelVersion, Promotion, RegisteredModel
from keel.registry.service import ModelService

__all__ = ["GateReport", "ModelService", "ModelVersion", "Promotion", "RegisteredModel"]
