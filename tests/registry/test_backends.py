"""The same registry calls on every backend: local SQLite, local PostgreSQL, a real `keel server`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import keel.models
from keel.client import Client
from keel.core.errors import CheckFailed
from keel.sdk import register_model


def test_register_alias_promote_and_load_on_each_backend(
    keel_client: Client, unique: Callable[[str], str], package: Path, fitted: Any, tmp_path: Path
) -> None:
    model, X, _ = fitted
    settings = keel_client.settings
    if settings is not None and not settings.server_url and not settings.artifacts_url:
        # the PostgreSQL client is a bare database URL: give it an artifact store, as a team's config would
        from keel.client import connect
        from keel.core.settings import load_settings

        values = {"db_url": settings.db_url, "artifacts_url": str(tmp_path / "objects")}
        keel_client = connect(settings=load_settings(values, env={}, cwd=tmp_path))
    project = unique("reg")
    keel_client.projects.create(name=project, kpis=["accuracy >= 0.9"])
    version = register_model(package, "churn", project=project, client=keel_client)
    again = register_model(package, "churn", project=project, client=keel_client)
    assert (version.number, again.number) == (1, 2) and version.package_digest == again.package_digest
    keel_client.models.set_alias(project=project, name="churn", alias="candidate", version=2)
    with pytest.raises(CheckFailed, match="not measured"):
        keel_client.models.promote(project=project, ref="churn@candidate", to="production")
    done = keel_client.models.promote(
        project=project, ref="churn@candidate", to="production", force=True, reason="registered from files"
    )
    assert done.forced and done.version.aliases == ["candidate", "production"]
    loaded = keel.models.load("churn@production", project=project, client=keel_client)
    assert list(loaded.predict(X.head(3))) == list(model.predict(X.head(3)))
    assert [v.number for v in keel_client.models.versions(project=project, name="churn")] == [2, 1]
