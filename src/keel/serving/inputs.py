"""Checking a request's columns against the model's signature, and building what ``predict`` gets.

Both protocols decode to :class:`Batch`: named 1-D columns (a table) or a
single array (a tensor). :func:`check` holds it against the signature and
raises InvalidInput naming the field (a missing column, a string where a
number is expected, rows of unequal length). :func:`model_input` then gives
the model one 2-D array when every column is numeric and the model answers
the same to an array as to a DataFrame (decided once at load), so the common
request never builds a DataFrame; other tables go through pandas.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from keel.core.errors import InvalidInput
from keel.models.signature import ACCEPTS, ColumnSpec, Schema, TensorSpec, kind_of

NUMERIC = frozenset({"bool", "integer", "float"})


@dataclass
class Batch:
    """Decoded request data: ``columns`` by name, or one ``tensor`` (and the names it came under)."""

    columns: dict[str, np.ndarray] = field(default_factory=dict)
    tensor: np.ndarray | None = None
    label: str = "input"

    @property
    def rows(self) -> int:
        if self.tensor is not None:
            return int(self.tensor.shape[0]) if self.tensor.ndim else 1
        return len(next(iter(self.columns.values()))) if self.columns else 0


def column_array(name: str, values: Any) -> np.ndarray:
    """One column's values as a 1-D array (InvalidInput naming the column when they are not flat)."""
    try:
        array = np.asarray(values)
    except ValueError as exc:
        raise InvalidInput(f"input {name!r} is not a flat list of values: {exc}") from None
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise InvalidInput(f"input {name!r} has shape {list(array.shape)}; a column takes one value per row")
    if array.dtype.kind == "O" and any(v is None for v in array):
        floats = [np.nan if v is None else v for v in array]
        with contextlib.suppress(TypeError, ValueError):
            array = np.asarray(floats, dtype=np.float64)
    return array


def check(schema: Schema, batch: Batch) -> Batch:
    """``batch`` held against the signature's inputs; InvalidInput naming the first field that is wrong."""
    if schema.columns is not None:
        if batch.tensor is not None:
            batch = _table_from_tensor(schema.columns, batch)
        return _check_columns(schema.columns, batch)
    assert schema.tensor is not None
    return _check_tensor(schema.tensor, batch)


def _table_from_tensor(columns: list[ColumnSpec], batch: Batch) -> Batch:
    """A 2-D array whose width is the number of columns is the table in the signature's order."""
    assert batch.tensor is not None
    array = batch.tensor
    if array.ndim == 1 and len(columns) == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[1] != len(columns):
        names = ", ".join(c.name for c in columns[:6])
        raise InvalidInput(
            f"{batch.label} has shape {list(array.shape)}; the model takes {len(columns)} columns "
            f"({names}{', ...' if len(columns) > 6 else ''}), by name or as [rows, {len(columns)}]"
        )
    return Batch(columns={c.name: array[:, i] for i, c in enumerate(columns)}, label=batch.label)


def _check_columns(columns: list[ColumnSpec], batch: Batch) -> Batch:
    known = {c.name for c in columns}
    extra = [name for name in batch.columns if name not in known]
    if extra:
        raise InvalidInput(
            f"input {extra[0]!r} is not one of the model's inputs ({', '.join(sorted(known)[:8])})"
        )
    rows: int | None = None
    for spec in columns:
        array = batch.columns.get(spec.name)
        if array is None:
            raise InvalidInput(f"input {spec.name!r} is missing (the model takes {spec.dtype})")
        got = kind_of(array.dtype)
        if got not in ACCEPTS[spec.kind]:
            raise InvalidInput(
                f"input {spec.name!r} is {array.dtype} ({got}); the model takes {spec.dtype} ({spec.kind})"
            )
        if not spec.nullable and array.dtype.kind == "f" and bool(np.isnan(array).any()):
            raise InvalidInput(f"input {spec.name!r} has nulls; the model was given none there")
        if rows is not None and len(array) != rows:
            raise InvalidInput(f"input {spec.name!r} has {len(array)} rows; the inputs before it have {rows}")
        rows = len(array)
    if not rows:
        raise InvalidInput("the request holds no rows")
    return Batch(columns={c.name: batch.columns[c.name] for c in columns}, label=batch.label)


def _check_tensor(spec: TensorSpec, batch: Batch) -> Batch:
    if batch.tensor is None:
        if len(batch.columns) != 1:
            raise InvalidInput(f"the model takes one tensor of shape {spec.shape}; got {len(batch.columns)}")
        batch = Batch(tensor=next(iter(batch.columns.values())), label=next(iter(batch.columns)))
    assert batch.tensor is not None
    array = batch.tensor
    if array.ndim != len(spec.shape):
        raise InvalidInput(f"{batch.label} has {array.ndim} dimensions; the model takes shape {spec.shape}")
    for axis, (want, got) in enumerate(zip(spec.shape, array.shape, strict=True)):
        if want != -1 and want != got:
            raise InvalidInput(
                f"{batch.label} dimension {axis} is {got}; the model takes {want} (shape {spec.shape})"
            )
    got_kind = kind_of(array.dtype)
    if got_kind not in ACCEPTS[spec.kind]:
        raise InvalidInput(
            f"{batch.label} is {array.dtype} ({got_kind}); the model takes {spec.dtype} ({spec.kind})"
        )
    return batch


def all_numeric(schema: Schema) -> bool:
    """Whether a table's columns can travel as one float array (every column bool, integer or float)."""
    return schema.columns is not None and all(c.kind in NUMERIC for c in schema.columns)


def model_input(batch: Batch, *, as_array: bool) -> Any:
    """What the model's ``predict`` gets: the tensor, one 2-D float array, or a DataFrame."""
    if batch.tensor is not None:
        return batch.tensor
    if as_array:
        return np.column_stack([a.astype(np.float64, copy=False) for a in batch.columns.values()])
    import pandas as pd

    return pd.DataFrame(batch.columns)
