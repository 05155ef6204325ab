"""Differences between two versions: files, schema, row counts, per-column statistics, and rows by key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from keel.artifacts.model import TreeEntry
from keel.artifacts.store import ArtifactStore
from keel.core.errors import InvalidInput
from keel.datasets.heads import VersionHead
from keel.datasets.schemas import DatasetVersion, FileChange, VersionDiff

if TYPE_CHECKING:  # Arrow and NumPy load only for table diffs, so `keel data status` stays light
    import pyarrow as pa


def version_entries(artifacts: ArtifactStore, version: DatasetVersion | VersionHead) -> list[TreeEntry]:
    """The files of a version: its tree's entries, or its one file."""
    if version.layout == "tree":
        return artifacts.read_tree(version.digest)
    return [TreeEntry(path=version.source_name, digest=version.digest, size=version.size, mode=0o644)]


def file_changes(before: list[TreeEntry], after: list[TreeEntry]) -> list[FileChange]:
    """Files added, removed and modified (by digest), sorted by path."""
    old = {e.path: e for e in before}
    new = {e.path: e for e in after}
    out = []
    for path in sorted(set(old) | set(new)):
        a, b = old.get(path), new.get(path)
        if a is None and b is not None:
            out.append(FileChange(path=path, change="added", size_after=b.size))
        elif b is None and a is not None:
            out.append(FileChange(path=path, change="removed", size_before=a.size))
        elif a is not None and b is not None and a.digest != b.digest:
            out.append(FileChange(path=path, change="modified", size_before=a.size, size_after=b.size))
    return out


def table_batches(artifacts: ArtifactStore, version: DatasetVersion) -> Iterator[pa.RecordBatch]:
    """Stream a table version's Parquet parts from the store."""
    import pyarrow.parquet as pq

    from keel.datasets.tables import STREAMING

    for digest in version.table_parts:
        with artifacts.open(digest) as handle, pq.ParquetFile(handle, **STREAMING) as parquet:
            yield from parquet.iter_batches(batch_size=65_536)


def diff_versions(
    artifacts: ArtifactStore,
    before: DatasetVersion,
    after: DatasetVersion,
    *,
    key: list[str] | None = None,
    examples: int = 5,
    max_files: int = 1000,
    scratch: Path | None = None,
) -> VersionDiff:
    """Everything that differs between ``before`` and ``after``."""
    from keel.stats import compare_profiles, diff_schemas

    changes = file_changes(version_entries(artifacts, before), version_entries(artifacts, after))
    result = VersionDiff(
        before=before.address,
        after=after.address,
        same_content=before.digest == after.digest,
        files=changes[:max_files],
        files_added=sum(1 for c in changes if c.change == "added"),
        files_removed=sum(1 for c in changes if c.change == "removed"),
        files_modified=sum(1 for c in changes if c.change == "modified"),
        rows_before=before.rows,
        rows_after=after.rows,
    )
    if before.kind == "table" and after.kind == "table":
        result.schema_changes = diff_schemas(before.columns, after.columns)
        if before.profile and after.profile:
            result.column_deltas = compare_profiles(before.profile, after.profile)
    if key:
        if before.kind != "table" or after.kind != "table":
            raise InvalidInput("--key needs two table versions; a folder of files has no rows")
        for version in (before, after):
            names = {c.name for c in version.columns}
            missing = [k for k in key if k not in names]
            if missing:
                raise InvalidInput(
                    f"{version.address} has no column {missing[0]!r} to use as the key",
                    hint="columns: " + ", ".join(sorted(names)),
                )
        from keel.datasets.rowdiff import row_diff

        result.rows = row_diff(
            lambda: table_batches(artifacts, before),
            lambda: table_batches(artifacts, after),
            key,
            labels=(before.address, after.address),
            examples=examples,
            scratch=scratch,
        )
    return result
