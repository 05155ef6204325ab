"""Statement time limits (issue 11.2): a request's statements stop at ``db_statement_timeout_s``
(``statement_timeout`` on PostgreSQL, a progress handler on SQLite) and answer 503, never 500.

Before, a viewer's filter of 2,000 terms kept a PostgreSQL backend planning for
minutes; nothing bounded how long one request could hold the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from keel.core.errors import ConfigError, StatementTimeout
from keel.store.engine import Store
from keel.store.limits import current_timeout_s, statement_timeout
from keel.testing.auth import AuthWorld
from keel.testing.fixtures import new_workspace

#: A statement that runs for seconds on either database (SQLite counts, PostgreSQL sleeps).
SLOW = {
    "sqlite": "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 200000000) "
    "SELECT count(*) FROM c",
    "postgresql": "SELECT pg_sleep(5)",
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = new_workspace(tmp_path / "ws").db_url
    else:
        url = request.getfixturevalue("postgres_url")
    s = Store(url)
    yield s
    s.dispose()


def _slow(store: Store) -> str:
    return SLOW[store.engine.dialect.name]


def test_a_statement_past_the_limit_is_a_statement_timeout(store: Store) -> None:
    with statement_timeout(0.3), pytest.raises(StatementTimeout) as info, store.read() as session:
        session.execute(text(_slow(store)))
    assert info.value.status == 503 and "0.3 s" in info.value.message
    assert "db_statement_timeout_s" in info.value.message
    # the connection is fine afterwards, and quick statements under the limit run
    with statement_timeout(5), store.read() as session:
        assert session.execute(text("SELECT 1")).scalar() == 1


def test_a_limit_inside_a_write_rolls_it_back(store: Store) -> None:
    with statement_timeout(0.3), pytest.raises(StatementTimeout), store.write() as session:
        session.execute(text("DELETE FROM lineage_edges"))
        session.execute(text(_slow(store)))


def test_the_limit_is_per_context_and_off_by_default() -> None:
    assert current_timeout_s() is None
    with statement_timeout(2.0):
        assert current_timeout_s() == 2.0
        with statement_timeout(0):
            assert current_timeout_s() is None
    assert current_timeout_s() is None


def test_without_a_limit_a_statement_runs_to_the_end(tmp_path: Path) -> None:
    store = Store(new_workspace(tmp_path / "ws").db_url)
    query = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 300000) SELECT count(*) FROM c"
    with store.read() as session:
        assert session.execute(text(query)).scalar() == 300000
    store.dispose()


def test_a_request_past_the_limit_answers_503_naming_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = AuthWorld(tmp_path / "w", db_statement_timeout_s=0.3)
    world.project("churn")
    import keel.projects.service as projects

    real = projects.find_project

    def slow_lookup(session: Any, name: str) -> Any:
        session.execute(text(SLOW["sqlite"]))
        return real(session, name)

    monkeypatch.setattr(projects, "find_project", slow_lookup)
    response = world.http(world.admin_token).get("/api/v1/projects/churn")
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "1"
    error = response.json()["error"]
    assert error["code"] == "statement_timeout" and "db_statement_timeout_s" in error["message"]
    monkeypatch.setattr(projects, "find_project", real)
    assert world.http(world.admin_token).get("/api/v1/projects/churn").status_code == 200


@pytest.mark.parametrize("value", [-1, -0.5])
def test_a_negative_statement_limit_is_refused_by_name(tmp_path: Path, value: float) -> None:
    with pytest.raises(ConfigError, match="db_statement_timeout_s must be >= 0"):
        AuthWorld(tmp_path / "w", db_statement_timeout_s=value)


def test_a_value_the_database_cannot_store_is_invalid_input_not_an_error(store: Store) -> None:
    """The net under the edge checks: NUL text on PostgreSQL, an integer past 64 bits anywhere."""
    from keel.core.errors import InvalidInput

    bad: list[tuple[str, dict[str, Any]]] = [("SELECT CAST(:v AS BIGINT)", {"v": 2**70})]
    if store.engine.dialect.name == "postgresql":
        bad.append(("SELECT :v", {"v": "a\x00b"}))
        bad.append(("SELECT CAST(:v AS jsonb)", {"v": '{"k": "\\u0000"}'}))
    for sql, params in bad:
        with pytest.raises(InvalidInput, match="cannot store") as info, store.write() as session:
            session.execute(text(sql), params)
        assert info.value.status == 422
