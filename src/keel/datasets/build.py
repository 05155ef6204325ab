"""Turning a path on disk into a version's content: objects in the store, schema, profile, summary.

Two steps, so that adding unchanged data costs only the first:

1. :func:`snapshot` stores the raw bytes (a file, or a folder as a tree, via
   the artifact store's stat cache: unchanged files are stat'ed, not read) and
   gives the content digest;
2. :func:`describe` does the work that depends on content: for a table, one
   streaming pass that profiles it and, for CSV or JSON lines, writes the
   Parquet copy every later reader uses; for a folder, a summary by file type.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from keel.artifacts.model import TreeEntry
from keel.artifacts.store import ArtifactStore
from keel.core.errors import InvalidInput
from keel.datasets.schemas import DatasetKind, FileTypeSummary, Layout, NewVersion
from keel.datasets.summary import summarise_files

Progress = Callable[[int, int], None]
SAMPLE_ROWS = 100_000


class Snapshot:
    """A path's content as stored: its digest and layout; its entries are read only when needed.

    Re-adding unchanged data needs the digest alone, so the tree manifest is
    decoded lazily (10,000 entries cost more than the stat calls do).
    """

    def __init__(
        self,
        path: Path,
        digest: str,
        layout: Layout,
        *,
        files: int,
        size: int,
        artifacts: ArtifactStore | None = None,
        entries: list[TreeEntry] | None = None,
    ) -> None:
        self.path, self.digest, self.layout = path, digest, layout
        self.files, self.size = files, size
        self._artifacts = artifacts
        self._entries = entries

    @property
    def entries(self) -> list[TreeEntry]:
        if self._entries is None:
            assert self._artifacts is not None
            self._entries = self._artifacts.read_tree(self.digest)
        return self._entries


def check_source(path: Path) -> Path:
    """The path, resolved; InvalidInput if it is missing, unreadable, special or a symlink loop."""
    try:
        resolved = path.resolve(strict=True)
    except FileNotFoundError:
        raise InvalidInput(f"{path} does not exist") from None
    except (RuntimeError, OSError) as exc:  # a symlink loop ends here
        raise InvalidInput(f"{path} cannot be resolved: {exc}") from None
    if not (resolved.is_file() or resolved.is_dir()):
        raise InvalidInput(f"{path} is neither a file nor a folder")
    if not os.access(resolved, os.R_OK):
        raise InvalidInput(f"{path} cannot be read (permission denied)")
    return resolved


def snapshot(path: Path, artifacts: ArtifactStore, *, progress: Progress | None = None) -> Snapshot:
    """Store a file or folder's bytes; unchanged files are known from the stat cache."""
    resolved = check_source(path)
    if resolved.is_dir():
        info = artifacts.put_tree(resolved, progress=progress)
        if not info.files:
            raise InvalidInput(f"{path} is an empty folder; there is nothing to version")
        return Snapshot(resolved, info.digest, "tree", files=info.files, size=info.size, artifacts=artifacts)
    try:
        obj = artifacts.put_file(resolved, use_stat_cache=True)
    except PermissionError:
        raise InvalidInput(f"{path} cannot be read (permission denied)") from None
    if progress:
        progress(1, 1)
    mode = 0o755 if os.access(resolved, os.X_OK) else 0o644
    entry = TreeEntry(path=resolved.name, digest=obj.digest, size=obj.size, mode=mode)
    return Snapshot(resolved, obj.digest, "file", files=1, size=obj.size, entries=[entry])


def detect_kind(snap: Snapshot, kind: DatasetKind | None) -> tuple[DatasetKind, str]:
    """The dataset kind and format of stored content, from its file names: a table format, or ``files``."""
    from keel.datasets.formats import file_format, folder_format

    if snap.layout == "file":
        fmt = file_format(snap.path.name)
    else:
        fmt = folder_format(e.path for e in snap.entries)
    if kind == "table" and fmt is None:
        raise InvalidInput(
            f"{snap.path} is not a table Keel reads (CSV, Parquet, JSON lines, or a folder of Parquet parts)"
        )
    if kind == "files" or fmt is None:
        return "files", "files"
    return "table", fmt


def describe(
    snap: Snapshot,
    artifacts: ArtifactStore,
    *,
    kind: DatasetKind | None = None,
    sample_size: int = SAMPLE_ROWS,
    scratch: Path | None = None,
) -> NewVersion:
    """Profile a table (converting it to Parquet once) or summarise a folder; objects go to the store."""
    dataset_kind, fmt = detect_kind(snap, kind)
    base: dict[str, Any] = {
        "kind": dataset_kind,
        "digest": snap.digest,
        "layout": snap.layout,
        "source_name": snap.path.name,
        "format": fmt,
        "files": snap.files,
        "size": snap.size,
    }
    if dataset_kind == "files":
        return NewVersion(**base, summary=summarise_files(snap.path, snap.entries))
    from keel.datasets.tables import open_table, parquet_parts  # pyarrow: only tables pay for it
    from keel.stats import Profiler, infer_schema

    source = open_table(snap.path, fmt)
    profiler = Profiler(source.schema, sample_size=sample_size)
    if fmt == "parquet":
        for batch in source.batches():
            profiler.update(batch)
        by_path = {e.path: e.digest for e in snap.entries}
        if snap.layout == "file":
            parts = [snap.digest]
        else:
            parts = [by_path[p.relative_to(snap.path).as_posix()] for p in parquet_parts(snap.path)]
    else:
        parts = [_convert(source, profiler, artifacts, scratch)]
    sample_digest = artifacts.put_bytes(_parquet_bytes(profiler.sample()))
    artifacts.sync()
    profile = profiler.result()
    return NewVersion(
        **base,
        rows=profile.rows,
        table_parts=parts,
        sample_digest=sample_digest,
        columns=infer_schema(source.schema),
        profile=profile,
        summary=[FileTypeSummary(extension=_ext(snap.path), files=snap.files, size=snap.size)],
    )


def _ext(path: Path) -> str:
    return path.suffix.lower() or "(folder)"


def _convert(source: Any, profiler: Any, artifacts: ArtifactStore, scratch: Path | None) -> str:
    """Stream a text table into a Parquet file while profiling it; returns the Parquet object's digest."""
    import pyarrow.parquet as pq

    folder = scratch or Path(tempfile.gettempdir())
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="keel-table-", suffix=".parquet", dir=folder)
    os.close(fd)
    temp = Path(name)
    try:
        with pq.ParquetWriter(temp, source.schema) as writer:
            for batch in source.batches():
                profiler.update(batch)
                writer.write_batch(batch)
        return artifacts.put_file(temp).digest
    finally:
        temp.unlink(missing_ok=True)


def _parquet_bytes(table: Any) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())
