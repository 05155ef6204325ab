"""Printing: JSON for machines (``--json``), Rich tables for people."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
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


def done(message: str) -> None:
    console().print(f"[green]✓[/green] {message}", highlight=False)
