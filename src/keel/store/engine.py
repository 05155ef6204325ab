"""Connecting to the metadata database, and transactions that behave under concurrency.

SQLite runs in WAL mode with foreign keys on and a busy timeout; write
transactions start with ``BEGIN IMMEDIATE`` so two writers queue on the lock
instead of failing on a read-to-write upgrade. ``synchronous`` is the
``db_synchronous`` setting: NORMAL (the default) or FULL; see
:data:`SYNCHRONOUS` for the trade. PostgreSQL goes through psycopg 3.
Connection failures become :class:`DatabaseUnavailable` naming the URL
without its password; a value the database cannot store (NUL text on
PostgreSQL, an integer past 64 bits) becomes :class:`InvalidInput` (422).

One request holds at most one connection: a session opened while another
session of the same store is open on the same thread joins it (a read joins
any session; a write joins a write, or any session on PostgreSQL, as a
savepoint). Before this, a permission check inside a write (``log_batch``
loading a run, then asking the authorizer for the caller's role) took a
second connection from the pool, and enough concurrent callers each holding
one and waiting for another drained the pool for good. Waiting longer than
:data:`POOL_TIMEOUT_S` for a free connection is :class:`DatabaseUnavailable`
(503, retried by clients), never an internal error.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Engine, Table, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DataError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from keel.core.errors import ConfigError, DatabaseOutOfDate, DatabaseUnavailable, InvalidInput, MissingExtra
from keel.store.limits import (
    current_timeout_s,
    install_sqlite_progress,
    is_statement_timeout,
    start_postgres_transaction,
    timed_out,
)
from keel.store.schema_version import HEAD_REVISIONS

#: SQLite's ``PRAGMA synchronous`` per ``db_synchronous`` value. In WAL mode NORMAL syncs only at
#: checkpoints: a commit survives a crash of the process but the last ones may be lost if the
#: machine loses power; FULL syncs the WAL at every commit (durable, and slower per small write).
SYNCHRONOUS: Final = {"normal": "NORMAL", "full": "FULL"}
#: Seconds a request waits for a free pooled connection before answering 503. Well under the
#: SDK's HTTP timeout (30 s), so a client sees the 503 and retries instead of timing out.
POOL_TIMEOUT_S: Final = 10.0


def redact_url(url: str) -> str:
    """The URL with any password masked, safe for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def check_synchronous(value: str | None) -> str:
    """The PRAGMA value for a ``db_synchronous`` setting; ConfigError naming the choices otherwise."""
    key = (value or "normal").strip().lower()
    if key not in SYNCHRONOUS:
        raise ConfigError(
            f"db_synchronous must be one of {', '.join(SYNCHRONOUS)}, got {value!r}",
            hint="normal: fast, a power cut may lose the last commits; full: every commit is on disk",
        )
    return SYNCHRONOUS[key]


def _sqlite_pragmas(busy_timeout_ms: int, synchronous: str) -> Any:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.close()

    return on_connect


def make_engine(url: str, *, busy_timeout_ms: int = 30_000, synchronous: str | None = "normal") -> Engine:
    """An engine for ``url``; raises ConfigError, MissingExtra or DatabaseUnavailable."""
    pragma = check_synchronous(synchronous)
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
            in_memory = parsed.database in (None, "", ":memory:")
            pool = {} if in_memory else {"pool_timeout": POOL_TIMEOUT_S}  # a memory db has no queue
            engine = create_engine(parsed, connect_args={"timeout": busy_timeout_ms / 1000}, **pool)
            event.listen(engine, "connect", _sqlite_pragmas(busy_timeout_ms, pragma))
            install_sqlite_progress(engine)
        else:
            engine = create_engine(
                parsed,
                pool_pre_ping=True,
                pool_timeout=POOL_TIMEOUT_S,
                connect_args={"connect_timeout": 5},
            )
    except (NoSuchModuleError, ImportError) as exc:
        raise MissingExtra(f"no driver for {redact_url(url)}: {exc}") from None
    return engine


def unstorable(exc: BaseException) -> InvalidInput:
    """A value the database refused to store (NUL in PostgreSQL text, an integer past 64 bits):
    the caller's input, so a 422, never a 500. The checks at the edge (``keel.core.edge``, each
    capability's own) name the field; this is the net under them."""
    return InvalidInput(
        f"the database cannot store a value of this request: {describe_connect_error(exc)}",
        hint="text must not contain NUL characters (\\x00); integers must fit in 64 bits",
    )


def describe_revisions(revisions: frozenset[str]) -> str:
    """Revisions as text, e.g. ``0001+0002``."""
    return "+".join(sorted(revisions)) or "none"


def describe_connect_error(exc: BaseException) -> str:
    """The driver's reason, first line only (never the URL, which may hold a password)."""
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


@dataclass(frozen=True)
class _Open:
    """The session a thread has open on a store, so a nested one joins it."""

    store: Store
    thread: int
    session: Session
    writes: bool


_open: ContextVar[_Open | None] = ContextVar("keel_open_session", default=None)


class Store:
    """The metadata database of one workspace or server."""

    def __init__(
        self,
        url: str,
        *,
        busy_timeout_ms: int = 30_000,
        check_schema: bool = True,
        synchronous: str | None = "normal",
    ) -> None:
        self.url = url
        self.engine = make_engine(url, busy_timeout_ms=busy_timeout_ms, synchronous=synchronous)
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

    def _joinable(self, writes: bool) -> _Open | None:
        """The session this thread already has open on this store, if a new one should join it.

        A read joins anything; a write joins a write, and on PostgreSQL a read too
        (its transaction can write). On SQLite a write inside a read keeps its own
        connection: upgrading a deferred transaction to a writer can fail at once
        when another process wrote meanwhile, where ``BEGIN IMMEDIATE`` waits.
        """
        current = _open.get()
        if current is None or current.store is not self or current.thread != threading.get_ident():
            return None
        if not writes or current.writes or not self.is_sqlite:
            return current
        return None

    @contextmanager
    def _session(self, begin: str) -> Iterator[Session]:
        writes = begin != "BEGIN"
        outer = self._joinable(writes)
        if outer is not None:
            yield from self._join(outer.session, writes)
            return
        self.ensure_schema()
        try:
            with self._sessions() as session:
                if self.is_sqlite:
                    session.execute(text(begin))
                else:
                    start_postgres_transaction(session)
                token = _open.set(_Open(self, threading.get_ident(), session, writes))
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
                finally:
                    _open.reset(token)
        except OperationalError as exc:
            raise self._translate(exc) from None
        except (DataError, OverflowError) as exc:
            raise unstorable(exc) from None
        except PoolTimeout:
            raise DatabaseUnavailable(
                f"the database {self.safe_url} is busy: no free connection within {POOL_TIMEOUT_S:g} s",
                hint="retry shortly; a server under this load may need a larger connection pool",
            ) from None

    @staticmethod
    def _join(session: Session, writes: bool) -> Iterator[Session]:
        """Run a nested session inside the open one: reads share it, writes get a savepoint."""
        if not writes:
            yield session
            return
        with session.begin_nested():
            yield session

    def _translate(self, exc: OperationalError) -> Exception:
        """A driver error as what it means: the database gone, a statement over its limit, or as is."""
        if _is_connect_error(exc):
            return self.unavailable(exc)
        seconds = current_timeout_s()
        if seconds is not None and is_statement_timeout(exc):
            return timed_out(seconds)
        return exc

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


_STORES: dict[tuple[str, int, str], Store] = {}
_STORES_LOCK = threading.Lock()


def open_store(url: str, *, busy_timeout_ms: int = 30_000, synchronous: str | None = "normal") -> Store:
    """The process-wide Store for ``url`` (one engine and pool per database and connection options)."""
    key = (url, busy_timeout_ms, check_synchronous(synchronous))
    with _STORES_LOCK:
        store = _STORES.get(key)
        if store is None:
            store = _STORES[key] = Store(url, busy_timeout_ms=busy_timeout_ms, synchronous=synchronous)
        return store
