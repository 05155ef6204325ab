"""Which table format a file or a folder's file names are, from their suffixes alone (no reads, no Arrow)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

TABLE_SUFFIXES: Final = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


def _suffix(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    dot = base.rfind(".")
    return base[dot:].lower() if dot > 0 else ""


def is_hidden(name: str) -> bool:
    """Files such as ``.DS_Store`` or Spark's ``_SUCCESS`` are not table parts."""
    return name.rsplit("/", 1)[-1].startswith((".", "_"))


def file_format(name: str) -> str | None:
    """``csv``, ``jsonl`` or ``parquet`` for a table file's name; None otherwise."""
    return TABLE_SUFFIXES.get(_suffix(name))


def folder_format(names: Iterable[str]) -> str | None:
    """``parquet`` when every visible file of a folder is a Parquet part; None otherwise."""
    parts = [n for n in names if not is_hidden(n)]
    if parts and all(file_format(n) == "parquet" for n in parts):
        return "parquet"
    return None
