"""Projects (L2, Discovery): the problem statement, objectives and KPIs everything else belongs to."""

from keel.projects.schemas import Project
from keel.projects.service import ProjectService

__all__ = ["Project", "ProjectService"]
