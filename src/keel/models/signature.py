"""Signatures: the columns (or tensor shape) a model takes and gives, and the check ``predict`` runs.

Inferred from the input example and the model's answer to it, so a user
never writes one. The check names the offending field (a missing column, a
string where a number is expected, a null in a column that had none) before
the model sees the data, instead of a framework error deep in ``predict``.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel

from keel.core.errors import InvalidInput

Kind = Literal["bool", "integer", "float", "string", "datetime", "object"]


class ColumnSpec(BaseModel):
    """One named column: its dtype as saved, its kind, and whether the example had nulls."""

    name: str
    dtype: str
    kind: Kind
    nullable: bool


class TensorSpec(BaseModel):
    """An array: dtype and shape, ``-1`` standing for the batch dimension."""

    dtype: str
    kind: Kind
    shape: list[int]


class Schema(BaseModel):
    """Either named columns (a table) or one tensor."""

    columns: list[ColumnSpec] | None = None
    tensor: TensorSpec | None = None

    def describe(self) -> str:
        if self.columns is not None:
            return ", ".join(f"{c.name}: {c.dtype}{'?' if c.nullable else ''}" for c in self.columns)
        assert self.tensor is not None
        return f"{self.tensor.dtype}{self.tensor.shape}"


class Signature(BaseModel):
    """What the model takes and what it answers."""

    inputs: Schema
    outputs: Schema


def kind_of(dtype: Any) -> Kind:
    """The kind of a numpy or pandas dtype: the level at which inputs are checked."""
    dt = np.dtype(dtype) if not hasattr(dtype, "kind") else dtype
    kind = getattr(dt, "kind", "O")
    if kind == "b":
        return "bool"
    if kind in "iu":
        return "integer"
    if kind in "f":
        return "float"
    if kind in "US" or str(dtype) in ("string", "str"):
        return "string"
    if kind in "mM":
        return "datetime"
    return "object"


#: Which input kinds a column of each kind accepts: widening only (an integer fits a float column).
ACCEPTS: dict[Kind, set[Kind]] = {
    "bool": {"bool"},
    "integer": {"integer", "bool"},
    "float": {"float", "integer", "bool"},
    "string": {"string", "object"},
    "datetime": {"datetime"},
    "object": {"object", "string", "integer", "float", "bool", "datetime"},
}


def _is_frame(data: Any) -> bool:
    return type(data).__name__ == "DataFrame" and hasattr(data, "columns")


def _is_series(data: Any) -> bool:
    return type(data).__name__ == "Series" and hasattr(data, "dtype")


def infer_schema(data: Any) -> Schema:
    """The schema of a DataFrame, Series, array or nested list (InvalidInput for anything else)."""
    if _is_frame(data):
        cols = []
        for name in data.columns:
            column = data[name]
            cols.append(
                ColumnSpec(
                    name=str(name),
                    dtype=str(column.dtype),
                    kind=kind_of(column.dtype),
                    nullable=bool(column.isna().any()),
                )
            )
        return Schema(columns=cols)
    if _is_series(data):
        name = str(data.name) if data.name is not None else "prediction"
        spec = ColumnSpec(
            name=name, dtype=str(data.dtype), kind=kind_of(data.dtype), nullable=bool(data.isna().any())
        )
        return Schema(columns=[spec])
    try:
        array = np.asarray(data)
    except Exception as exc:
        raise InvalidInput(f"cannot read a {type(data).__name__} as a table or an array: {exc}") from None
    if array.ndim == 0:
        raise InvalidInput(f"an input example must hold rows, not a single {type(data).__name__}")
    return Schema(
        tensor=TensorSpec(dtype=str(array.dtype), kind=kind_of(array.dtype), shape=[-1, *array.shape[1:]])
    )


def infer_signature(example: Any, output: Any) -> Signature:
    """The signature from an input example and the model's answer to it."""
    return Signature(inputs=infer_schema(example), outputs=infer_schema(output))


def check_input(schema: Schema, data: Any) -> Any:
    """``data`` as the model expects it (columns in the saved order), or InvalidInput naming the field."""
    if schema.columns is not None:
        return _check_columns(schema.columns, data)
    assert schema.tensor is not None
    return _check_tensor(schema.tensor, data)


def _as_frame(data: Any, names: list[str]) -> Any:
    import pandas as pd

    if _is_frame(data):
        return data
    if isinstance(data, dict) or (isinstance(data, list) and data and isinstance(data[0], dict)):
        return pd.DataFrame(data)
    array = np.asarray(data)
    if array.ndim != 2 or array.shape[1] != len(names):
        raise InvalidInput(
            f"the model takes a table of {len(names)} columns ({', '.join(names[:5])}"
            f"{', ...' if len(names) > 5 else ''}); got an array of shape {list(array.shape)}"
        )
    return pd.DataFrame(array, columns=names)


def _check_columns(columns: list[ColumnSpec], data: Any) -> Any:
    names = [c.name for c in columns]
    frame = _as_frame(data, names)
    present = {str(c): c for c in frame.columns}
    for spec in columns:
        if spec.name not in present:
            raise InvalidInput(f"input column {spec.name!r} is missing (the model takes {spec.dtype})")
        column = frame[present[spec.name]]
        got = kind_of(column.dtype)
        if got not in ACCEPTS[spec.kind]:
            raise InvalidInput(
                f"input column {spec.name!r} is {column.dtype} ({got}); the model takes {spec.dtype} ({spec.kind})"
            )
        if not spec.nullable and bool(column.isna().any()):
            raise InvalidInput(f"input column {spec.name!r} has nulls; the model was given none there")
    return frame[[present[n] for n in names]]


def _check_tensor(spec: TensorSpec, data: Any) -> Any:
    array = data.to_numpy() if _is_frame(data) or _is_series(data) else np.asarray(data)
    if array.ndim != len(spec.shape):
        raise InvalidInput(f"input has {array.ndim} dimensions; the model takes shape {spec.shape}")
    for axis, (want, got) in enumerate(zip(spec.shape, array.shape, strict=True)):
        if want != -1 and want != got:
            raise InvalidInput(
                f"input dimension {axis} is {got}; the model takes {want} (shape {spec.shape})"
            )
    got_kind = kind_of(array.dtype)
    if got_kind not in ACCEPTS[spec.kind]:
        raise InvalidInput(f"input is {array.dtype} ({got_kind}); the model takes {spec.dtype} ({spec.kind})")
    return array
