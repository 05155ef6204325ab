"""The stat cache: (path, size, mtime_ns, inode) -> digest, so an unchanged file is stat'ed, not read.

It belongs to one machine (inodes and mtimes mean nothing elsewhere), so it is
a small SQLite file in the workspace's ``cache/`` folder, never the shared
metadata database. A file whose mtime is within :data:`RACY_NS` of the moment
we looked at it is not cached: it could still change within the same clock
tick and keep its mtime (git's "racily clean" problem).

Each row also remembers when its object was last seen in the store (and
touched, so gc's grace period covers it) and the store's *epoch*, a token the
store changes whenever it deletes anything. While the epoch is unchanged and
that sighting is recent (:data:`VERIFIED_FOR_NS`), a re-put trusts the object
is still there and skips the ``stat`` of the object; otherwise it checks.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Final, NamedTuple

#: Files modified this close (ns) to the scan's start are re-hashed next time.
RACY_NS: Final = 50_000_000
#: How long a sighting of an object in the store is trusted (if the store deleted nothing since).
VERIFIED_FOR_NS: Final = 600 * 1_000_000_000


class Stat(NamedTuple):
    """What the cache keys a file's digest on."""

    size: int
    mtime_ns: int
    inode: int


class Cached(NamedTuple):
    """A cache row: the file's stat and digest, and when (and in which store epoch) its object was seen."""

    size: int
    mtime_ns: int
    inode: int
    digest: str
    epoch: str
    seen_ns: int


class StatCache:
    """A per-machine SQLite map from a file's absolute path and stat to its digest."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection | None:
        if self.path is None:
            return None
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS stat_cache_v2 (path TEXT PRIMARY KEY, size INTEGER NOT NULL,"
                " mtime_ns INTEGER NOT NULL, inode INTEGER NOT NULL, digest TEXT NOT NULL,"
                " epoch TEXT NOT NULL, seen_ns INTEGER NOT NULL) WITHOUT ROWID"
            )
            self._conn = conn
        return self._conn

    def under(self, folder: str) -> dict[str, Cached]:
        """Every cached file below ``folder`` (an absolute path), in one query."""
        with self._lock:
            db = self._db()
            if db is None:
                return {}
            prefix = folder.rstrip("/") + "/"
            rows = db.execute(
                "SELECT path, size, mtime_ns, inode, digest, epoch, seen_ns FROM stat_cache_v2"
                " WHERE path >= ? AND path < ?",
                (prefix, prefix[:-1] + "0"),  # '0' is the character after '/'
            ).fetchall()
        return {r[0]: Cached(r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows}

    def get(self, path: str) -> Cached | None:
        """The cached row of one file (an absolute path), if any."""
        with self._lock:
            db = self._db()
            if db is None:
                return None
            row = db.execute(
                "SELECT size, mtime_ns, inode, digest, epoch, seen_ns FROM stat_cache_v2 WHERE path = ?",
                (path,),
            ).fetchone()
        return Cached(*row) if row is not None else None

    def record(
        self, rows: Iterable[tuple[str, Stat, str]], *, scan_started_ns: int, epoch: str, seen_ns: int
    ) -> int:
        """Remember digests seen in store ``epoch`` at ``seen_ns`` (one transaction).

        Racily clean files are skipped. Returns the rows kept.
        """
        keep = [
            (path, st.size, st.mtime_ns, st.inode, digest, epoch, seen_ns)
            for path, st, digest in rows
            if st.mtime_ns < scan_started_ns - RACY_NS
        ]
        with self._lock:
            db = self._db()
            if db is None or not keep:
                return 0
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT OR REPLACE INTO stat_cache_v2 VALUES (?, ?, ?, ?, ?, ?, ?)", keep)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return len(keep)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
