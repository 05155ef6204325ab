"""Connecting to the metadata database, and transactions that behave under concurrency.

SQLite runs in WAL mode with foreign keys on and a busy timeout; write
transactions start with ``BEGIN IMMEDIATE`` so two writers queue on the lock
instead of failing on a read-to-write upgrade. PostgreSQL goes through
psycopg 3. Connection failures become :class:`DatabaseUnavailable` naming the
URL without its password.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, Table, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from keel.core.errors import ConfigError, DatabaseOutOfDate, DatabaseUnavailable, MissingExtra
from keel.store.schema_version import HEAD_REVISIONS


def redact_url(url: str) -> str:
    """The URL with any password masked, safe for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def _sqlite_pragmas(busy_timeout_ms: int) -> Any:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return on_connect


def make_engine(url: str, *, busy_timeout_ms: int = 30_000) -> Engine:
    """An engine for ``url``; raises ConfigError, MissingExtra or DatabaseUnavailable."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"not a database URL: {redact_url(url)}") from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise MissingExtra(
                "PostgreSQL support is not installed",
                hint="install `keel[postgres]` (pip install 'keel[postgres]')",
            ) from None
    elif backend != "sqlite":
        raise ConfigError(
            f"unsupported database {backend!r} in {redact_url(url)}",
            hint="use sqlite:///path/keel.db or postgresql+psycopg://user@host/db",
        )
    try:
        if backend == "sqlite":
            engine = create_engine(parsed, connect_args={"timeout": busy_timeout_ms / 1000})
            event.listen(engine, "connect", _sqlite_pragmas(busy_timeout_ms))
        else:
            engine = create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 5})
    except (NoSuchModuleError, ImportError) as exc:
        raise MissingExtra(f"no driver for {redact_url(url)}: {exc}") from None
    return engine


def describe_revisions(revisions: frozenset[str]) -> str:
    """Revisions as text, e.g. ``0001+0002``."""
    return "+".join(sorted(revisions)) or "none"


def describe_connect_error(exc: BaseException) -> str:
    """The driver's reason, first line only (never the URL, which may hold a password)."""
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


class Store:
    """The metadata database of one workspace or server."""

    def __init__(self, url: str, *, busy_timeout_ms: int = 30_000, check_schema: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url, busy_timeout_ms=busy_timeout_ms)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._check_schema = check_schema
        self._schema_ok = False
        self._lock = threading.Lock()

    @property
    def safe_url(self) -> str:
        return redact_url(self.url)

    def schema_revisions(self) -> frozenset[str]:
        """The revisions (one per branch head) recorded in the database; empty if never migrated."""
        try:
            with self.engine.connect() as conn:
                if not self.engine.dialect.has_table(conn, "alembic_version"):
                    return frozenset()
                rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
                return frozenset(str(r[0]) for r in rows)
        except OperationalError as exc:
            raise self.unavailable(exc) from None

    def unavailable(self, exc: BaseException) -> DatabaseUnavailable:
        return DatabaseUnavailable(
            f"cannot connect to the database {self.safe_url}: {describe_connect_error(exc)}",
            hint="check KEEL_DB_URL and that the database server is running",
        )

    def ensure_schema(self) -> None:
        """Raise DatabaseOutOfDate unless the schema is at this Keel's head revision."""
        if self._schema_ok or not self._check_schema:
            return
        with self._lock:
            revisions = self.schema_revisions()
            if revisions != HEAD_REVISIONS:
                state = "not initialised" if not revisions else f"at {describe_revisions(revisions)}"
                raise DatabaseOutOfDate(
                    f"the database {self.safe_url} is {state}; this Keel needs {describe_revisions(HEAD_REVISIONS)}",
                    hint="run `keel db upgrade`",
                )
            self._schema_ok = True

    def forget_schema_check(self) -> None:
        """Check the schema again on next use (after a migration)."""
        self._schema_ok = False

    @contextmanager
    def _session(self, begin: str) -> Iterator[Session]:
        self.ensure_schema()
        try:
            with self._sessions() as session:
                if self.is_sqlite:
                    session.execute(text(begin))
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        except OperationalError as exc:
            if _is_connect_error(exc):
                raise self.unavailable(exc) from None
            raise

    def read(self) -> Any:
        """A session for reading (a deferred transaction; readers never block writers in WAL)."""
        return self._session("BEGIN")

    def write(self) -> Any:
        """A session for one atomic write (``BEGIN IMMEDIATE`` on SQLite), committed on exit."""
        return self._session("BEGIN IMMEDIATE")

    def insert_many(self, session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        """The batch write primitive: many rows in one statement (COPY on PostgreSQL)."""
        if not rows:
            return
        if self.engine.dialect.name == "postgresql":
            columns = list(rows[0].keys())
            raw = session.connection().connection.driver_connection
            assert raw is not None
            names = ", ".join(f'"{c}"' for c in columns)
            with raw.cursor() as cur, cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row([row[c] for c in columns])
        else:
            session.execute(table.insert(), list(rows))

    def dispose(self) -> None:
        self.engine.dispose()


def _is_connect_error(exc: DBAPIError) -> bool:
    text_ = str(exc.orig).lower() if exc.orig else ""
    return exc.connection_invalidated or any(
        s in text_
        for s in (
            "could not connect",
            "connection refused",
            "unable to open",
            "connection failed",
            "does not exist",
            "timeout expired",
            "server closed",
        )
    )


_STORES: dict[tuple[str, int], Store] = {}
_STORES_LOCK = threading.Lock()


def open_store(url: str, *, busy_timeout_ms: int = 30_000) -> Store:
    """The process-wide Store for ``url`` (one engine and pool per database)."""
    key = (url, busy_timeout_ms)
    with _STORES_LOCK:
        store = _STORES.get(key)
        if store is None:
            store = _STORES[key] = Store(url, busy_timeout_ms=busy_timeout_ms)
        return store
