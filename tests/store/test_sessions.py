"""One request, one connection (issue 11.1): nested sessions join the open one; a full pool is a 503.

Before the fix a permission check inside a write (``log_batch`` loading a run,
then reading the caller's role) took a second pooled connection; with a pool
of one it could never get it. These tests pin the pool to one connection, so
any second checkout fails at once instead of after a load test.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

import keel.store.engine as engine_mod
from keel.auth.authorizer import RoleAuthorizer
from keel.auth.models import UserRow
from keel.auth.roles import set_role
from keel.core.errors import DatabaseUnavailable
from keel.core.ids import new_id
from keel.core.operations import Action, Caller
from keel.core.timeutil import utcnow
from keel.store.engine import Store
from keel.testing.fixtures import new_workspace

PROJECT = "P" * 26


@pytest.fixture
def one_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Store made in the test gets a pool of exactly one connection, given up on after 0.5 s."""
    real = engine_mod.create_engine

    def small(url: Any, **kwargs: Any) -> Any:
        return real(url, **{**kwargs, "pool_size": 1, "max_overflow": 0, "pool_timeout": 0.5})

    monkeypatch.setattr(engine_mod, "create_engine", small)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path, one_connection: None) -> Iterator[Store]:
    if request.param == "sqlite":
        url = new_workspace(tmp_path / "ws").db_url
    else:
        url = request.getfixturevalue("postgres_url")
    s = Store(url)
    yield s
    s.dispose()


def _count(store: Store, sql: str) -> int:
    with store.read() as session:
        return int(session.execute(text(sql)).scalar_one())


def _edge(session: Any, src: str) -> None:
    session.execute(
        text(
            "INSERT INTO lineage_edges (id, src, relation, dst, created_at) VALUES (:i, :s, 'used', 'x:y', :t)"
        ),
        {"i": new_id(), "s": src, "t": utcnow()},
    )


def test_a_read_inside_a_write_shares_its_connection(store: Store) -> None:
    tag = new_id()
    with store.write() as outer, store.read() as inner:
        assert inner is outer
        _edge(inner, f"run:{tag}")
    assert _count(store, f"SELECT count(*) FROM lineage_edges WHERE src = 'run:{tag}'") == 1


def test_a_write_inside_a_write_is_a_savepoint(store: Store) -> None:
    tag = new_id()
    with store.write() as outer:
        _edge(outer, f"run:{tag}-kept")
        with pytest.raises(RuntimeError), store.write() as inner:
            _edge(inner, f"run:{tag}-undone")
            raise RuntimeError("inner fails")
        with store.write() as inner:
            _edge(inner, f"run:{tag}-also-kept")
    src = f"SELECT src FROM lineage_edges WHERE src LIKE 'run:{tag}%' ORDER BY src"
    with store.read() as session:
        assert list(session.execute(text(src)).scalars()) == [f"run:{tag}-also-kept", f"run:{tag}-kept"]


def test_a_role_check_inside_a_write_needs_no_second_connection(store: Store) -> None:
    uid = new_id()
    with store.write() as session:
        now = utcnow()
        session.add(
            UserRow(
                id=uid,
                name=f"ed-{uid}",
                email=None,
                is_admin=False,
                can_create_projects=False,
                disabled=False,
                created_at=now,
                updated_at=now,
            )
        )
        session.flush()
        set_role(session, uid, PROJECT, "editor", granted_by="t")
    authorizer = RoleAuthorizer(lambda: store, lambda name: PROJECT)
    editor = Caller(name=f"ed-{uid}", user_id=uid)
    with store.write() as session:  # what log_batch does: load the run, then check the role
        _edge(session, f"run:{uid}")
        authorizer.authorize_project_id(editor, Action.WRITE, PROJECT, "run R")
        authorizer.authorize(editor, Action.WRITE, "any")
    assert _count(store, f"SELECT count(*) FROM lineage_edges WHERE src = 'run:{uid}'") == 1


def test_another_thread_never_joins_and_a_full_pool_is_a_503(store: Store) -> None:
    outcome: list[BaseException | None] = []

    def other() -> None:
        try:
            with store.read() as session:
                session.execute(text("SELECT 1"))
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    with store.write() as session:
        session.execute(text("SELECT 1"))  # holds the pool's one connection from here
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    (error,) = outcome
    assert isinstance(error, DatabaseUnavailable)
    assert error.status == 503 and error.retryable
    assert "busy: no free connection" in error.message


def test_a_write_inside_a_read_on_sqlite_takes_its_own_lock(tmp_path: Path) -> None:
    store = Store(new_workspace(tmp_path / "ws").db_url)
    with store.read() as outer, store.write() as inner:
        assert inner is not outer  # a deferred reader cannot safely become the writer
        _edge(inner, "run:own")
    assert _count(store, "SELECT count(*) FROM lineage_edges") == 1
    store.dispose()
