"""Schema inference: what each column is, in words every capability shares.

A schema is a list of :class:`ColumnSchema` (name, Arrow type as text, a
coarse *kind*, nullability). The kind decides which statistics a column gets
(numeric columns get moments and histograms, categorical ones get category
counts) and lets validation and drift pick their tests without re-parsing
Arrow type strings.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.types as pat

from keel.stats.models import ColumnSchema, Kind, SchemaChange


def column_kind(dtype: pa.DataType) -> Kind:
    """The coarse kind of an Arrow type (dictionaries take their value type's kind)."""
    if pat.is_dictionary(dtype):
        return column_kind(dtype.value_type)
    if pat.is_boolean(dtype):
        return "boolean"
    if pat.is_integer(dtype):
        return "integer"
    if pat.is_floating(dtype) or pat.is_decimal(dtype):
        return "float"
    if pat.is_string(dtype) or pat.is_large_string(dtype) or pat.is_string_view(dtype):
        return "string"
    if pat.is_temporal(dtype):
        return "temporal"
    if pat.is_binary(dtype) or pat.is_large_binary(dtype) or pat.is_fixed_size_binary(dtype):
        return "binary"
    if pat.is_nested(dtype):
        return "nested"
    return "other"


def infer_schema(schema: pa.Schema) -> list[ColumnSchema]:
    """The Keel schema of an Arrow schema, column by column, in order."""
    return [
        ColumnSchema(name=f.name, type=str(f.type), kind=column_kind(f.type), nullable=f.nullable)
        for f in schema
    ]


def _same_type(text: str) -> str:
    """Arrow's large_ variants (64-bit offsets) hold the same values; they are not a schema change."""
    return text.replace("large_", "")


def diff_schemas(before: list[ColumnSchema], after: list[ColumnSchema]) -> list[SchemaChange]:
    """Columns added, removed, retyped or whose nullability changed, in the newer schema's order."""
    old = {c.name: c for c in before}
    new = {c.name: c for c in after}
    changes: list[SchemaChange] = []
    for col in before:
        if col.name not in new:
            changes.append(SchemaChange(column=col.name, change="removed", before=col.type))
    for col in after:
        prev = old.get(col.name)
        if prev is None:
            changes.append(SchemaChange(column=col.name, change="added", after=col.type))
        elif _same_type(prev.type) != _same_type(col.type):
            changes.append(
                SchemaChange(column=col.name, change="type_changed", before=prev.type, after=col.type)
            )
        elif prev.nullable != col.nullable:
            changes.append(
                SchemaChange(
                    column=col.name,
                    change="nullability_changed",
                    before=str(prev.nullable),
                    after=str(col.nullable),
                )
            )
    return changes
