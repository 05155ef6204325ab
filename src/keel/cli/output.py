"""Printing: JSON for machines (``--json``), Rich tables for people."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from keel.core.paging import Page

T = TypeVar("T")

#: The largest page a listing operation serves (keel.core.paging.MAX_PAGE_SIZE).
PAGE_SIZE = 1000


def all_pages(call: Callable[..., Page[T]], limit: int | None = None) -> list[T]:
    """Every item of a paged listing, or its first ``limit``: one loop for every ``ls`` command.

    ``call(limit=..., page_token=...)`` fetches one page (bind any filters with a
    lambda or ``functools.partial``); pages are fetched until the listing ends or
    ``limit`` items are in hand, never asking for more than are still wanted.
    """
    from keel.core.errors import InvalidInput

    if limit is not None and limit < 1:
        raise InvalidInput(f"--limit must be at least 1, got {limit}")
    items: list[T] = []
    token: str | None = None
    while limit is None or len(items) < limit:
        wanted = PAGE_SIZE if limit is None else min(limit - len(items), PAGE_SIZE)
        page = call(limit=wanted, page_token=token)
        items.extend(page.items)
        token = page.next_token
        if not token:
            break
    return items if limit is None else items[:limit]


def to_plain(value: Any) -> Any:
    """Pydantic models and lists of them as JSON-ready data."""
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    return value


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(to_plain(value), indent=2, default=str) + "\n")


def console() -> Any:
    from rich.console import Console

    return Console()


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console().print(table)


GREEN_CHECK = "\033[32m✓\033[0m"


def is_terminal() -> bool:
    """Whether stdout is a terminal that takes colour (``NO_COLOR`` and ``TERM=dumb`` say no)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def line(message: str) -> None:
    """Plain text, written directly: Rich's import costs more than a fast command's whole run."""
    sys.stdout.write(message + "\n")


def done(message: str) -> None:
    """A success line with a green check on a terminal (no Rich, no markup in ``message``)."""
    line(f"{GREEN_CHECK if is_terminal() else '✓'} {message}")


@contextmanager
def progress(description: str, enabled: bool = True) -> Iterator[Callable[[int, int], None]]:
    """A Rich progress bar as a ``progress(done, total)`` callback.

    Shown only on a terminal and when ``enabled`` (commands pass ``not json_out``);
    elsewhere (pipes, CI logs, ``--json``) the callback does nothing and Rich is
    not even imported.
    """
    if not enabled or not is_terminal():
        yield lambda done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console(),
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
