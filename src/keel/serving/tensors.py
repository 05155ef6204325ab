"""Open Inference Protocol v2 tensors: typed request inputs to a :class:`Batch`, answers to outputs.

A request input is ``{"name", "shape", "datatype", "data"}``; its data must
be of its datatype (an ``INT64`` input holding 1.5 or ``"a"`` is refused, not
truncated) and hold exactly as many values as its shape. Each error names the
input, and the server answers it with OIP's ``{"error": "..."}`` and 422.
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np

from keel.core.errors import InvalidInput
from keel.models.signature import Schema
from keel.serving.inputs import Batch, column_array

#: OIP datatype -> numpy dtype.
DATATYPES: Final[dict[str, str]] = {
    "BOOL": "bool",
    "UINT8": "uint8",
    "UINT16": "uint16",
    "UINT32": "uint32",
    "UINT64": "uint64",
    "INT8": "int8",
    "INT16": "int16",
    "INT32": "int32",
    "INT64": "int64",
    "FP16": "float16",
    "FP32": "float32",
    "FP64": "float64",
    "BYTES": "object",
}
#: The numpy kinds each datatype's data may arrive as from JSON.
_ARRIVES: Final[dict[str, str]] = {"b": "b", "u": "iu", "i": "iu", "f": "iuf", "O": "USO"}


def datatype_of(dtype: Any) -> str:
    """The OIP datatype of a numpy (or pandas) dtype; strings and objects are ``BYTES``."""
    kind = getattr(dtype, "kind", "O")
    if kind in "biuf":
        name = np.dtype(dtype).name
        for datatype, np_name in DATATYPES.items():
            if np_name == name:
                return datatype
    return "BYTES"


def _field(item: Any, index: int, key: str, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(item, dict):
        raise InvalidInput(f"inputs[{index}] is not an object with name, shape, datatype and data")
    if key not in item:
        raise InvalidInput(f"inputs[{index}] ({item.get('name', 'unnamed')}) has no {key!r}")
    value = item[key]
    if not isinstance(value, kind):
        raise InvalidInput(f"inputs[{index}]'s {key!r} is not a {getattr(kind, '__name__', 'valid value')}")
    return value


def decode_input(item: Any, index: int) -> tuple[str, np.ndarray]:
    """One request input as ``(name, array)`` of its datatype and shape."""
    name = _field(item, index, "name", str)
    shape = _field(item, index, "shape", list)
    datatype = _field(item, index, "datatype", str).upper()
    data = _field(item, index, "data", list)
    if datatype not in DATATYPES:
        raise InvalidInput(f"input {name!r} has datatype {datatype!r}; OIP's are {', '.join(DATATYPES)}")
    if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise InvalidInput(f"input {name!r} has shape {shape}; a shape is a list of sizes (whole numbers)")
    try:
        raw = np.asarray(data)
    except ValueError as exc:
        raise InvalidInput(f"input {name!r}'s data is ragged: {exc}") from None
    target = np.dtype(DATATYPES[datatype])
    if raw.size and raw.dtype.kind not in _ARRIVES[target.kind]:
        raise InvalidInput(f"input {name!r} is {datatype} but its data holds {raw.dtype} values")
    if raw.size != math.prod(shape):
        raise InvalidInput(
            f"input {name!r} has {raw.size} values; its shape {shape} holds {math.prod(shape)}"
        )
    try:
        array = raw.astype(target).reshape(shape)
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(f"input {name!r}'s data is not {datatype}: {exc}") from None
    return name, array


def decode_request(body: Any, schema: Schema | None) -> tuple[Batch, str | None, dict[str, Any]]:
    """An infer request's :class:`Batch`, its ``id`` (or None) and its ``parameters``."""
    if not isinstance(body, dict):
        raise InvalidInput("an infer request is a JSON object with an 'inputs' list")
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise InvalidInput("an infer request needs 'inputs', a non-empty list of tensors")
    request_id = body.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise InvalidInput("the request's 'id' must be a string")
    parameters = body.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise InvalidInput("the request's 'parameters' must be an object")
    decoded = [decode_input(item, i) for i, item in enumerate(inputs)]
    names = [n for n, _ in decoded]
    if len(set(names)) != len(names):
        raise InvalidInput(f"input {next(n for n in names if names.count(n) > 1)!r} is given twice")
    column_names = {c.name for c in schema.columns} if schema is not None and schema.columns else set()
    if len(decoded) == 1 and (decoded[0][0] not in column_names or decoded[0][1].ndim > 1):
        name, array = decoded[0]
        return Batch(tensor=array, label=f"input {name!r}"), request_id, parameters
    return Batch(columns={n: column_array(n, a) for n, a in decoded}), request_id, parameters


def encode_outputs(predictions: Any, schema: Schema | None) -> list[dict[str, Any]]:
    """The model's answer as OIP outputs: one tensor named after the signature's output."""
    array = np.asarray(predictions)
    name = "predict"
    if schema is not None and schema.columns:
        name = schema.columns[0].name
    datatype = datatype_of(array.dtype)
    data = array.ravel() if datatype != "BYTES" else [str(v) for v in array.ravel()]
    return [{"name": name, "shape": list(array.shape), "datatype": datatype, "data": data}]


def metadata_tensors(schema: Schema | None, tensor_name: str = "input") -> list[dict[str, Any]]:
    """A signature side as OIP metadata tensors (``name``, ``datatype``, ``shape``; -1 is any size).

    ``tensor_name`` names a tensor side (``predict`` for outputs, as :func:`encode_outputs` names it).
    """
    if schema is None:
        return []
    if schema.columns is not None:
        return [
            {"name": c.name, "datatype": datatype_of(np.dtype(_np_name(c.dtype))), "shape": [-1]}
            for c in schema.columns
        ]
    assert schema.tensor is not None
    return [
        {
            "name": tensor_name,
            "datatype": datatype_of(np.dtype(_np_name(schema.tensor.dtype))),
            "shape": schema.tensor.shape,
        }
    ]


def _np_name(dtype: str) -> str:
    try:
        return np.dtype(dtype).name
    except TypeError:
        return "object"
