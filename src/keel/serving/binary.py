"""Triton's binary tensor data extension: a JSON header, then the raw bytes of some inputs.

Triton's clients (``tritonclient.http``) send tensors this way by default:
the ``Inference-Header-Content-Length`` header gives the JSON part's length,
and each input whose ``parameters`` hold ``binary_data_size`` takes that many
bytes, in order, from what follows (little-endian, row-major; ``BYTES``
elements each prefixed by a 4-byte length). :func:`unpack` turns such a body
into the plain JSON request, so the rest of the server sees one format.
Answers stay JSON, which Triton's clients read as well.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from keel.core.errors import InvalidInput
from keel.serving.jsonio import loads
from keel.serving.tensors import DATATYPES


def _strings(chunk: bytes, name: str) -> list[str]:
    values, offset = [], 0
    while offset < len(chunk):
        if offset + 4 > len(chunk):
            raise InvalidInput(f"input {name!r}'s BYTES data ends inside an element's length")
        (size,) = struct.unpack_from("<I", chunk, offset)
        offset += 4
        if offset + size > len(chunk):
            raise InvalidInput(f"input {name!r}'s BYTES element runs past its binary_data_size")
        values.append(chunk[offset : offset + size].decode("utf-8", errors="replace"))
        offset += size
    return values


def unpack(raw: bytes, header_length: str) -> Any:
    """The request in ``raw`` with each binary input's bytes decoded into its ``data`` list.

    InvalidInput naming what is wrong: a header length that is not a size
    within the body, an input whose bytes run past the body or do not fit its
    datatype, or bytes left over.
    """
    if not header_length.isdigit() or int(header_length) > len(raw):
        raise InvalidInput(
            f"Inference-Header-Content-Length is {header_length!r}; it must be a size within the body "
            f"({len(raw)} bytes)"
        )
    split = int(header_length)
    body = loads(raw[:split])
    offset = split
    inputs = body.get("inputs") if isinstance(body, dict) else None
    for item in inputs if isinstance(inputs, list) else []:
        parameters = item.get("parameters") if isinstance(item, dict) else None
        size = parameters.get("binary_data_size") if isinstance(parameters, dict) else None
        if size is None:
            continue
        name = str(item.get("name", "unnamed"))
        if not isinstance(size, int) or size < 0 or offset + size > len(raw):
            raise InvalidInput(f"input {name!r}'s binary_data_size {size!r} runs past the body")
        chunk = raw[offset : offset + size]
        offset += size
        datatype = str(item.get("datatype", "")).upper()
        if datatype not in DATATYPES:
            raise InvalidInput(f"input {name!r} has datatype {datatype!r}; OIP's are {', '.join(DATATYPES)}")
        if datatype == "BYTES":
            item["data"] = _strings(chunk, name)
            continue
        dtype = np.dtype(DATATYPES[datatype]).newbyteorder("<")
        if size % dtype.itemsize:
            raise InvalidInput(f"input {name!r} has {size} bytes, not a whole number of {datatype} values")
        item["data"] = np.frombuffer(chunk, dtype=dtype).tolist()
    if offset != len(raw):
        raise InvalidInput(f"the body has {len(raw) - offset} bytes that no input's binary_data_size claims")
    return body
