"""A dataset's latest version in brief (number, digest, layout), read without SQLAlchemy when possible.

Why: ``keel data status`` and an unchanged ``keel data add`` need only "which
version is the latest, and what is its digest", then a stat-cache walk of the
folder. On a laptop workspace (a SQLite file, one implicit admin) that answer
is one SELECT through the standard library's driver, which keeps SQLAlchemy's
0.2 s import off these commands. Everywhere else (PostgreSQL, a server, a
schema at another revision) :func:`latest_head` says None and callers ask the
data service, which applies the same rule: the highest number among the
versions of a dataset that is not deleted. A test holds the two answers equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from keel.store.readonly import read_sqlite

if TYPE_CHECKING:
    from keel.datasets.schemas import DatasetVersion

_LATEST = """
SELECT v.number, v.digest, v.layout, v.source_name, v.size
FROM projects p
JOIN datasets d ON d.project_id = p.id
JOIN dataset_versions v ON v.dataset_id = d.id
WHERE p.name = ? AND d.name = ? AND d.deleted_at IS NULL
ORDER BY v.number DESC
LIMIT 1
"""


@dataclass(frozen=True)
class VersionHead:
    """What names a version and its content: enough to compare a folder with it and list its files."""

    project: str
    dataset: str
    number: int
    digest: str
    layout: str
    source_name: str
    size: int

    @property
    def address(self) -> str:
        return f"{self.project}/{self.dataset}@v{self.number}"

    @classmethod
    def of(cls, version: DatasetVersion) -> VersionHead:
        return cls(
            version.project,
            version.dataset,
            version.number,
            version.digest,
            version.layout,
            version.source_name,
            version.size,
        )


def latest_head(db_url: str, project: str, dataset: str) -> VersionHead | None:
    """The latest version of ``project/dataset`` read straight from a SQLite file; None when not answerable.

    None covers "not a current SQLite file" and "no such dataset or no
    version": the caller's normal path then answers, or raises the error that
    names what is missing.
    """
    with read_sqlite(db_url) as conn:
        if conn is None:
            return None
        row = conn.execute(_LATEST, (project, dataset)).fetchone()
    if row is None:
        return None
    number, digest, layout, source_name, size = row
    return VersionHead(project, dataset, int(number), str(digest), str(layout), str(source_name), int(size))
