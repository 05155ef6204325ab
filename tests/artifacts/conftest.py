"""Fixtures for the artifact store tests: a fresh local store with its stat cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.artifacts import ArtifactStore, open_artifacts


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return open_artifacts(str(tmp_path / "objects"), cache_dir=tmp_path / "cache")


from keel.testing.contract.artifacts import s3_endpoint, s3_url  # noqa: E402, F401 - fixtures
