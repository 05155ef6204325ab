"""Time limits on a request's database statements: ``statement_timeout`` on PostgreSQL, a progress
handler on SQLite, and the clear error either one becomes.

Why per request and not per engine: the limit protects a shared server from
one caller's expensive statement (a filter with thousands of terms, say), so
``keel server`` sets it around each request with :func:`statement_timeout`
(setting ``db_statement_timeout_s``); a laptop's own commands (a migration, a
large ``data add``) run unlimited in the same process. The limit travels in a
context variable, which the server's worker threads inherit from the request.

On PostgreSQL each transaction starts with ``SET LOCAL statement_timeout``, so
the server cancels any one statement that runs longer (lock waits included).
SQLite has no such knob: a progress handler, called every few thousand virtual
machine steps, interrupts a statement once it has run past its deadline,
which each statement sets when it starts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Final

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from keel.core.errors import StatementTimeout

#: How many SQLite VM instructions run between two looks at the clock (about a millisecond's worth).
PROGRESS_STEPS: Final = 10_000
_DEADLINE_KEY: Final = "keel_statement_deadline"

_timeout_s: ContextVar[float | None] = ContextVar("keel_statement_timeout_s", default=None)


@contextmanager
def statement_timeout(seconds: float | None) -> Iterator[None]:
    """Limit every statement run in this context to ``seconds`` (None or <= 0: no limit)."""
    token = _timeout_s.set(seconds if seconds is not None and seconds > 0 else None)
    try:
        yield
    finally:
        _timeout_s.reset(token)


def current_timeout_s() -> float | None:
    """The statement limit in force here, in seconds; None when unlimited."""
    return _timeout_s.get()


def timed_out(seconds: float) -> StatementTimeout:
    """The error a statement that ran past the limit becomes (a 503 the caller may retry later)."""
    return StatementTimeout(
        f"the database did not finish this request within {seconds:g} s (db_statement_timeout_s)",
        hint="narrow the query (fewer filter terms, a smaller page), or raise db_statement_timeout_s",
        limit_s=seconds,
    )


def is_statement_timeout(exc: BaseException) -> bool:
    """Whether a driver error is a statement cancelled by the limit (either database)."""
    orig = getattr(exc, "orig", None) or exc
    if getattr(orig, "sqlstate", None) == "57014":  # PostgreSQL query_canceled
        return True
    return type(orig).__name__ == "OperationalError" and str(orig).strip().lower() == "interrupted"


def start_postgres_transaction(session: Session) -> None:
    """Give the transaction just begun the limit in force (no-op when unlimited)."""
    seconds = current_timeout_s()
    if seconds is not None:
        session.execute(text(f"SET LOCAL statement_timeout = {max(1, int(seconds * 1000))}"))


def install_sqlite_progress(engine: Engine) -> None:
    """Make every connection of a SQLite engine interrupt statements that run past the limit."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn: Any, record: Any) -> None:
        deadline: list[float | None] = [None]
        record.info[_DEADLINE_KEY] = deadline

        def too_late() -> int:
            limit = deadline[0]
            return 1 if limit is not None and time.monotonic() > limit else 0

        dbapi_conn.set_progress_handler(too_late, PROGRESS_STEPS)

    @event.listens_for(engine, "before_cursor_execute")
    def on_statement(conn: Any, cursor: Any, statement: Any, params: Any, context: Any, many: Any) -> None:
        deadline = conn.connection._connection_record.info.get(_DEADLINE_KEY)
        if deadline is not None:
            seconds = current_timeout_s()
            deadline[0] = None if seconds is None else time.monotonic() + seconds
