"""What the data operations take and return."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, StringConstraints

from keel.stats import ColumnDelta, ColumnSchema, SchemaChange, TableProfile

DatasetName = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", min_length=1, max_length=100)
]
TagName = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.\-]*$", min_length=1, max_length=100)
]
Digest = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
DatasetKind = Literal["table", "files"]
Layout = Literal["file", "tree"]


class FileTypeSummary(BaseModel):
    """Files of one type (by extension) in a version: how many, how big, image sizes if known."""

    extension: str
    files: int
    size: int
    images_measured: int = 0
    width_min: int | None = None
    width_max: int | None = None
    height_min: int | None = None
    height_max: int | None = None


class NewVersion(BaseModel):
    """The content of a version as the client built it; every digest must be in the store."""

    kind: DatasetKind
    digest: Digest
    layout: Layout
    source_name: str
    format: str
    files: int
    size: int
    rows: int | None = None
    table_parts: list[Digest] = []
    sample_digest: Digest | None = None
    columns: list[ColumnSchema] = []
    profile: TableProfile | None = None
    summary: list[FileTypeSummary] = []

    def object_digests(self) -> list[str]:
        """Every object this version keeps alive."""
        found = [self.digest, *self.table_parts]
        if self.sample_digest:
            found.append(self.sample_digest)
        return found


class Dataset(BaseModel):
    """A named, versioned dataset of a project."""

    id: str
    project: str
    name: str
    kind: DatasetKind
    description: str
    created_at: datetime
    deleted: bool
    versions: int
    latest: int | None
    tags: dict[str, int]


class DatasetVersion(BaseModel):
    """One immutable version: its address (``name@v3``), content digests, schema and profile."""

    id: str
    project: str
    dataset: str
    number: int
    kind: DatasetKind
    digest: Digest
    layout: Layout
    source_name: str
    format: str
    files: int
    size: int
    rows: int | None
    table_parts: list[Digest]
    sample_digest: Digest | None
    columns: list[ColumnSchema]
    profile: TableProfile | None
    summary: list[FileTypeSummary]
    tags: list[str]
    message: str
    author: str
    created_at: datetime
    parents: list[str] = []

    @property
    def ref(self) -> str:
        return f"dataset_version:{self.id}"

    @property
    def address(self) -> str:
        return f"{self.project}/{self.dataset}@v{self.number}"


class AddResult(BaseModel):
    """What ``add`` did: the version, and whether it is new or the content was already the latest."""

    version: DatasetVersion
    created: bool


class FileChange(BaseModel):
    """A file added, removed or modified between two versions."""

    path: str
    change: Literal["added", "removed", "modified"]
    size_before: int | None = None
    size_after: int | None = None


class RowChange(BaseModel):
    """One changed row of a keyed diff: its key and the columns whose values differ."""

    key: dict[str, Any]
    columns: dict[str, tuple[Any, Any]]


class RowDiff(BaseModel):
    """A keyed row diff: counts of rows added, removed and changed, with some examples of each."""

    key: list[str]
    added: int
    removed: int
    changed: int
    unchanged: int
    added_examples: list[dict[str, Any]] = []
    removed_examples: list[dict[str, Any]] = []
    changed_examples: list[RowChange] = []


class VersionDiff(BaseModel):
    """Everything that differs between two versions (``before`` -> ``after``)."""

    before: str
    after: str
    same_content: bool
    files: list[FileChange]
    files_added: int
    files_removed: int
    files_modified: int
    rows_before: int | None = None
    rows_after: int | None = None
    schema_changes: list[SchemaChange] = []
    column_deltas: list[ColumnDelta] = []
    rows: RowDiff | None = None


class LineageView(BaseModel):
    """What a version came from (upstream) and what used it (downstream), as edges."""

    version: str
    upstream: list[dict[str, str]]
    downstream: list[dict[str, str]]
    #: A readable name beside each id it knows: ``churn/churn-train@v3`` for versions, run names for runs.
    labels: dict[str, str] = {}
