"""The statistics' data: plain pydantic records, importable without NumPy or Arrow.

Stored as JSON beside dataset versions and read back by validation and
monitoring, so loading them must stay cheap (the CLI imports this on start).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

Kind = Literal["integer", "float", "boolean", "string", "temporal", "binary", "nested", "other"]
Scalar = float | int | str | bool | None


class ColumnSchema(BaseModel):
    """One column: its name, Arrow type (as text), coarse kind and whether it may hold nulls."""

    name: str
    type: str
    kind: Kind
    nullable: bool


class SchemaChange(BaseModel):
    """One difference between two schemas: a column added, removed or retyped."""

    column: str
    change: Literal["added", "removed", "type_changed", "nullability_changed"]
    before: str | None = None
    after: str | None = None


class Histogram(BaseModel):
    """Equal-width bins: ``edges`` has one more entry than ``counts``; counts are exact."""

    edges: list[float]
    counts: list[int]


class ColumnProfile(BaseModel):
    """What one column holds. Fields that do not apply to its kind are None."""

    name: str
    type: str
    kind: Kind
    count: int  # non-null values
    nulls: int
    distinct: int
    distinct_exact: bool
    min: Scalar = None
    max: Scalar = None
    mean: float | None = None
    std: float | None = None
    quantiles: dict[str, float] | None = None  # "p50" -> value
    quantiles_exact: bool = False
    histogram: Histogram | None = None
    categories: dict[str, int] | None = None  # every value -> count, while there are <= the cap
    categories_truncated: bool = False

    @property
    def null_fraction(self) -> float:
        total = self.count + self.nulls
        return self.nulls / total if total else 0.0


class TableProfile(BaseModel):
    """A table's schema and the profile of each of its columns."""

    rows: int
    columns: list[ColumnProfile]
    sample_rows: int

    def column(self, name: str) -> ColumnProfile:
        """The profile of column ``name``; KeyError if the table has none."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


class StatDelta(BaseModel):
    """One statistic of one column, before and after, and the change when both are numbers."""

    stat: str
    before: Scalar
    after: Scalar
    change: float | None = None


class ColumnDelta(BaseModel):
    """How one column present in both profiles changed (unchanged statistics are left out)."""

    column: str
    deltas: list[StatDelta]
    categories_added: list[str] = []
    categories_removed: list[str] = []
