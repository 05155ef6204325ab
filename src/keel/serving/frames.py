"""MLflow's scoring protocol: ``/invocations`` bodies (four JSON shapes and CSV) to a :class:`Batch`.

The JSON shapes are MLflow's: ``dataframe_split`` (``columns`` + ``data``
rows), ``dataframe_records`` (a list of ``{column: value}``), and
``instances`` / ``inputs`` (records, a ``{column: values}`` object, or
rows/arrays). Exactly one must be present. Rows are turned into columns here
with plain lists and numpy, never pandas.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Final

import numpy as np

from keel.core.errors import InvalidInput
from keel.models.signature import Schema
from keel.serving.inputs import Batch, column_array

FORMATS: Final = ("dataframe_split", "dataframe_records", "instances", "inputs")


def _names(schema: Schema | None) -> list[str] | None:
    return [c.name for c in schema.columns] if schema is not None and schema.columns else None


def _from_rows(columns: list[Any], rows: Any, where: str) -> Batch:
    if not isinstance(rows, list):
        raise InvalidInput(f"{where} must be a list of rows")
    width = len(columns)
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width:
            raise InvalidInput(f"{where}[{i}] is not a row of {width} values (one per column)")
    return Batch(
        columns={
            str(name): column_array(str(name), [row[j] for row in rows]) for j, name in enumerate(columns)
        }
    )


def _from_records(records: list[Any], where: str) -> Batch:
    names: dict[str, None] = {}
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise InvalidInput(f"{where}[{i}] is not a record ({{column: value}})")
        names.update(dict.fromkeys(record))
    return Batch(columns={n: column_array(n, [r.get(n) for r in records]) for n in names})


def _from_instances(value: Any, schema: Schema | None, where: str) -> Batch:
    if isinstance(value, dict):
        return Batch(
            columns={
                str(k): column_array(str(k), v if isinstance(v, list) else [v]) for k, v in value.items()
            }
        )
    if not isinstance(value, list) or not value:
        raise InvalidInput(f"{where} must be a non-empty list (rows or records) or an object of columns")
    if isinstance(value[0], dict):
        return _from_records(value, where)
    names = _names(schema)
    if names is not None and isinstance(value[0], list):
        return _from_rows(names, value, where)
    try:
        return Batch(tensor=np.asarray(value), label=where)
    except ValueError as exc:
        raise InvalidInput(f"{where} is ragged: {exc}") from None


def decode_json(body: Any, schema: Schema | None) -> Batch:
    """The Batch of an ``/invocations`` JSON body (InvalidInput naming the field that is wrong)."""
    if not isinstance(body, dict):
        raise InvalidInput(f"the body must be a JSON object with one of {', '.join(FORMATS)}")
    given = [f for f in FORMATS if f in body]
    if len(given) != 1:
        raise InvalidInput(
            f"the body must have exactly one of {', '.join(FORMATS)}; it has {', '.join(given) or 'none'}"
        )
    key = given[0]
    value = body[key]
    if key == "dataframe_split":
        if not isinstance(value, dict) or "data" not in value:
            raise InvalidInput("dataframe_split needs 'data' (rows) and 'columns'")
        columns = value.get("columns") or _names(schema)
        if not isinstance(columns, list):
            raise InvalidInput("dataframe_split needs 'columns', a list of names")
        return _from_rows(columns, value["data"], "dataframe_split.data")
    if key == "dataframe_records":
        if not isinstance(value, list) or not value:
            raise InvalidInput("dataframe_records must be a non-empty list of records")
        return _from_records(value, key)
    return _from_instances(value, schema, key)


def _cell(text: str) -> Any:
    if text == "":
        return None
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            continue
    return text


def decode_csv(body: bytes) -> Batch:
    """A CSV body with a header row; numbers become numbers, empty cells nulls."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the CSV body is not UTF-8 text") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise InvalidInput("the CSV body has no header row naming the columns")
    rows = [[_cell(c) for c in row] for row in reader if row]
    if not rows:
        raise InvalidInput("the CSV body has no rows under its header")
    return _from_rows(header, rows, "csv row")
