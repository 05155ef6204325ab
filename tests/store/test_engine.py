"""The metadata store: SQLite settings, concurrency across processes, clear connection errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from keel.core.errors import ConfigError, DatabaseOutOfDate, DatabaseUnavailable, MissingExtra
from keel.lineage.graph import LineageEdge
from keel.store.engine import Store, make_engine, redact_url
from keel.testing.fixtures import new_workspace


def test_sqlite_runs_in_wal_with_foreign_keys_and_busy_timeout(keel_workspace: Any) -> None:
    store = Store(keel_workspace.db_url, busy_timeout_ms=1234)
    with store.read() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert session.execute(text("PRAGMA busy_timeout")).scalar() == 1234
    store.dispose()


def test_write_rolls_back_on_error(keel_workspace: Any) -> None:
    store = Store(keel_workspace.db_url)
    with pytest.raises(RuntimeError), store.write() as session:
        store.insert_many(session, LineageEdge.__table__, [_edge("run:a", "dataset:b")])  # type: ignore[arg-type]
        raise RuntimeError("boom")
    with store.read() as session:
        assert session.execute(text("SELECT count(*) FROM lineage_edges")).scalar() == 0
    store.dispose()


def _edge(src: str, dst: str) -> dict[str, Any]:
    from keel.core.ids import new_id
    from keel.core.timeutil import utcnow

    return {"id": new_id(), "src": src, "relation": "used", "dst": dst, "created_at": utcnow()}


def test_insert_many_batch_primitive(keel_workspace: Any) -> None:
    store = Store(keel_workspace.db_url)
    rows = [_edge(f"run:r{i}", "dataset:d") for i in range(500)]
    with store.write() as session:
        store.insert_many(session, LineageEdge.__table__, rows)  # type: ignore[arg-type]
    with store.read() as session:
        assert session.execute(text("SELECT count(*) FROM lineage_edges")).scalar() == 500
    store.dispose()


@pytest.mark.postgres
def test_insert_many_uses_copy_on_postgres(postgres_url: str) -> None:
    store = Store(postgres_url)
    rows = [_edge(f"run:pg{i}", "dataset:pg") for i in range(300)]
    with store.write() as session:
        store.insert_many(session, LineageEdge.__table__, rows)  # type: ignore[arg-type]
    with store.read() as session:
        n = session.execute(text("SELECT count(*) FROM lineage_edges WHERE dst = 'dataset:pg'")).scalar()
    assert n == 300
    store.dispose()


WRITER = textwrap.dedent(
    """
    import sys
    from keel.client import connect
    from keel.core.settings import load_settings
    home, worker = sys.argv[1], int(sys.argv[2])
    client = connect(settings=load_settings({"home": home}, env={}))
    for i in range(40):
        client.projects.create(name=f"w{worker}-p{i}", kpis=["accuracy >= 0.5"])
        client.projects.edit(name=f"w{worker}-p{i}", description=f"edited by {worker}")
    """
)


def test_eight_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    settings = new_workspace(tmp_path)
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, settings.home, str(w)], stderr=subprocess.PIPE)
        for w in range(8)
    ]
    for p in procs:
        _, err = p.communicate(timeout=240)
        assert p.returncode == 0, err.decode()
    store = Store(settings.db_url)
    with store.read() as session:
        names = set(session.execute(text("SELECT name FROM projects")).scalars())
        edited = session.execute(
            text("SELECT count(*) FROM projects WHERE description LIKE 'edited by %'")
        ).scalar()
        assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    assert names == {f"w{w}-p{i}" for w in range(8) for i in range(40)}
    assert edited == 320
    store.dispose()


def test_unmigrated_database_says_run_upgrade(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(DatabaseOutOfDate, match="not initialised") as info, store.read():
        pass
    assert info.value.hint == "run `keel db upgrade`"


def test_out_of_date_database_says_run_upgrade(keel_workspace: Any) -> None:
    store = Store(keel_workspace.db_url)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version"))
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('0000')"))
    with pytest.raises(DatabaseOutOfDate, match="at 0000"), store.read():
        pass
    store.dispose()


def test_unreachable_postgres_names_url_without_password() -> None:
    store = Store("postgresql+psycopg://keel:hunter2@127.0.0.1:1/keel")
    with pytest.raises(DatabaseUnavailable) as info, store.read():
        pass
    message = info.value.message
    assert "hunter2" not in message and "127.0.0.1:1/keel" in message and "***" in message
    assert info.value.status == 503


def test_bad_and_unsupported_urls() -> None:
    with pytest.raises(ConfigError, match="not a database URL"):
        make_engine("::::")
    with pytest.raises(ConfigError, match="unsupported database 'mysql'"):
        make_engine("mysql://u:pw@h/db")
    assert redact_url("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"


def test_missing_postgres_extra_gives_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(MissingExtra) as info:
        make_engine("postgresql://u@127.0.0.1/db")
    assert "keel[postgres]" in (info.value.hint or "")
