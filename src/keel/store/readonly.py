"""A look at a SQLite metadata file through the standard library's driver, without SQLAlchemy.

Why: importing SQLAlchemy takes about 0.2 s, more than the whole budget of a
command like ``keel data status`` on a laptop. The few hot reads such commands
need (the latest version of one dataset) are answered by one SELECT on the
file itself. Anything out of the ordinary (a database other than a SQLite
file, a schema at another revision, a missing file or table) gives None, and
the caller takes the normal path through the store, which reports errors
properly. Nothing here ever writes.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from keel.store.schema_version import HEAD_REVISIONS

_SQLITE_SCHEMES = ("sqlite:///", "sqlite+pysqlite:///")


def sqlite_file(url: str) -> Path | None:
    """The database file a plain ``sqlite:///path`` URL names; None for any other URL."""
    for scheme in _SQLITE_SCHEMES:
        if url.startswith(scheme):
            path = url[len(scheme) :]
            if not path or path == ":memory:" or "?" in path:
                return None
            return Path(path)
    return None


@contextlib.contextmanager
def read_sqlite(url: str, *, timeout_s: float = 30.0) -> Iterator[sqlite3.Connection | None]:
    """A connection to the SQLite file behind ``url`` if its schema is this Keel's, else None."""
    path = sqlite_file(url)
    if path is None or not path.is_file():
        yield None
        return
    try:
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=timeout_s)
    except sqlite3.Error:
        yield None
        return
    try:
        try:
            revisions = frozenset(r[0] for r in conn.execute("SELECT version_num FROM alembic_version"))
        except sqlite3.Error:
            revisions = frozenset()
        yield conn if revisions == HEAD_REVISIONS else None
    finally:
        conn.close()
