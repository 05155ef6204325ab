"""Artifacts as a service (L2): upload, download, exists, trees and references over the operation mechanism.

The bytes stay in :mod:`keel.artifacts`; this layer adds who may see what.
An object is readable only through a project whose references reach it
(directly, or as an entry of a referenced tree), so ``exists`` and
downloads never reveal an object to a caller who could not already read it.
"""

from keel.artifact_service.schemas import ArtifactStat, StoredRef
from keel.artifact_service.service import ArtifactService

__all__ = ["ArtifactService", "ArtifactStat", "StoredRef"]
