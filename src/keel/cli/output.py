"""Printing: JSON for machines (``--json``), Rich tables for people."""

from __future__ import annotations

import json
import os
import re
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


#: An identifier Keel prints: a ULID (runs, tokens, versions) or a BLAKE3 digest (objects, trees).
ID_VALUE = re.compile(r"^(?:[0-9A-HJKMNP-TV-Z]{26}|[0-9a-f]{64})$")
#: Headers that name identifier columns even before any value is seen.
ID_HEADERS = frozenset({"id", "run", "run id", "token", "digest", "tree"})
#: The narrowest a folding text column gets before columns are dropped instead.
MIN_TEXT_WIDTH = 12
#: The fewest characters a shortened identifier keeps, as git keeps 7.
MIN_PREFIX = 8


def unique_prefixes(values: Sequence[str], minimum: int = MIN_PREFIX) -> dict[str, str]:
    """Each value -> its shortest prefix (at least ``minimum`` long) that no other value shares.

    Only unique among ``values``: a command that accepts the prefix must still
    refuse an ambiguous one (``keel.projects.idprefix.resolve_prefix``), as git does.
    """
    ordered = sorted(set(values))
    out: dict[str, str] = {}
    for i, value in enumerate(ordered):
        shared = 0
        for neighbour in (ordered[i - 1] if i else "", ordered[i + 1] if i + 1 < len(ordered) else ""):
            common = 0
            for a, b in zip(value, neighbour, strict=False):
                if a != b:
                    break
                common += 1
            shared = max(shared, common)
        out[value] = value[: max(minimum, shared + 1)]
    return out


def is_id_column(header: str, values: Sequence[str]) -> bool:
    """Whether a column holds identifiers, which are never cut or wrapped."""
    filled = [v for v in values if v]
    if header.strip().lower() in ID_HEADERS or header.lower().endswith(" id"):
        return True
    return bool(filled) and all(ID_VALUE.match(v) for v in filled)


def fit_columns(
    columns: Sequence[str], cells: Sequence[Sequence[str]], ids: set[int], width: int
) -> list[int]:
    """The columns to show at ``width``: all that fit, dropping from the right (never the first or an id).

    A text column may fold down to :data:`MIN_TEXT_WIDTH`; an identifier needs its full length.
    Rich draws ``| a | b |``: three characters per column and one more.
    """

    def need(i: int) -> int:
        natural = max(
            [len(columns[i])] + [len(line) for row in cells for line in row[i].splitlines() or [""]]
        )
        return natural if i in ids else min(natural, max(MIN_TEXT_WIDTH, len(columns[i])))

    keep = list(range(len(columns)))
    droppable = [i for i in reversed(keep) if i != 0 and i not in ids]
    while sum(need(i) + 3 for i in keep) + 1 > width and droppable:
        keep.remove(droppable.pop(0))
    return keep


def print_table(
    title: str | None,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    short_ids: Sequence[str] = (),
    width: int | None = None,
) -> None:
    """A table a person can use at any width; every listing prints through here.

    The rules: an identifier (a ULID or a digest) is never cut or wrapped; a
    value is never cut with an ellipsis, only folded onto more lines; when the
    table cannot fit even so, columns are left out from the right (never the
    first, never an identifier) and a last line names them and points to
    ``--json``. Columns named in ``short_ids`` print each id's shortest unique
    prefix (at least 8 characters), for commands whose operations accept a
    unique prefix.
    """
    from rich.console import Console
    from rich.table import Table

    con = console() if width is None else Console(width=width)
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    ids = {i for i, c in enumerate(columns) if is_id_column(c, [r[i] for r in cells])}
    for i, column in enumerate(columns):
        if column in short_ids:
            short = unique_prefixes([r[i] for r in cells if r[i]])
            for row in cells:
                row[i] = short.get(row[i], row[i])
    keep = fit_columns(columns, cells, ids, con.width)
    table = Table(title=title, title_justify="left", header_style="bold")
    for i in keep:
        if i in ids:
            longest = max([len(columns[i])] + [len(r[i]) for r in cells])
            table.add_column(columns[i], no_wrap=True, overflow="ignore", min_width=longest)
        else:
            table.add_column(columns[i], overflow="fold")
    for row in cells:
        table.add_row(*(row[i] for i in keep))
    con.print(table)
    left_out = [columns[i] for i in range(len(columns)) if i not in keep]
    if left_out:
        import textwrap

        note = f"(left out at {con.width} columns: {', '.join(left_out)}; --json shows every field)"
        line(textwrap.fill(note, width=max(con.width, 40), break_long_words=False, break_on_hyphens=False))


def secret(label: str, value: str) -> None:
    """A secret (a new token) on a line of its own, whatever the width, so it copies whole.

    Written directly, not through Rich, which would wrap or fold it at the terminal's width.
    """
    line(f"{label}:")
    line(value)


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
