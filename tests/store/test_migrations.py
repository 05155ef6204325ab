"""Migrations: shipped heads match what this Keel expects, and the migrated schema matches the tables."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine

import keel.lineage
import keel.services
from keel.store.base import Base
from keel.store.migrate import head_revisions, upgrade_url
from keel.store.schema_version import HEAD_REVISIONS


def test_expected_heads_are_alembics_heads() -> None:
    assert head_revisions() == HEAD_REVISIONS


def _schema_diff(url: str) -> list[Any]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    assert keel.lineage
    keel.services.all_services()  # every capability's tables, even when this test runs alone
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    return [
        d
        for d in diff
        if not (isinstance(d, tuple) and d[0] == "remove_table" and d[1].name == "alembic_version")
    ]


def test_migrated_sqlite_schema_matches_the_models(keel_workspace: Any) -> None:
    assert _schema_diff(keel_workspace.db_url) == []


@pytest.mark.postgres
def test_migrated_postgres_schema_matches_the_models(postgres_url: str) -> None:
    assert _schema_diff(postgres_url) == []


def test_upgrade_is_idempotent(keel_workspace: Any) -> None:
    _, before, after = upgrade_url(keel_workspace.db_url)
    assert before == after == "+".join(sorted(HEAD_REVISIONS))
