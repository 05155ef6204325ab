"""Triton's binary tensor extension unpacked into the plain request; each malformed body refused by name."""

from __future__ import annotations

import struct

import numpy as np
import orjson
import pytest

from keel.core.errors import InvalidInput
from keel.serving.binary import unpack


def _body(inputs: list[dict[str, object]], tail: bytes) -> tuple[bytes, str]:
    header = orjson.dumps({"id": "b1", "inputs": inputs})
    return header + tail, str(len(header))


def test_binary_inputs_become_data_lists() -> None:
    floats = np.asarray([1.5, -2.0], dtype="<f8").tobytes()
    words = b"".join(struct.pack("<I", len(w)) + w for w in (b"ab", b""))
    raw, size = _body(
        [
            {"name": "x", "shape": [2], "datatype": "FP64", "parameters": {"binary_data_size": len(floats)}},
            {"name": "w", "shape": [2], "datatype": "BYTES", "parameters": {"binary_data_size": len(words)}},
            {"name": "j", "shape": [1], "datatype": "INT64", "data": [7]},
        ],
        floats + words,
    )
    body = unpack(raw, size)
    assert [i["data"] for i in body["inputs"]] == [[1.5, -2.0], ["ab", ""], [7]] and body["id"] == "b1"


@pytest.mark.parametrize(
    ("inputs", "tail", "size", "needle"),
    [
        ([], b"", "x", "Inference-Header-Content-Length"),
        ([], b"", "100000", "within the body"),
        ([{"name": "x", "datatype": "FP64", "parameters": {"binary_data_size": 16}}], b"\0" * 8, None, "'x'"),
        (
            [{"name": "x", "datatype": "FP64", "parameters": {"binary_data_size": 4}}],
            b"\0" * 4,
            None,
            "whole",
        ),
        (
            [{"name": "x", "datatype": "FP64", "parameters": {"binary_data_size": 8}}],
            b"\0" * 9,
            None,
            "1 bytes",
        ),
        ([{"name": "x", "datatype": "NOPE", "parameters": {"binary_data_size": 1}}], b"\0", None, "NOPE"),
        ([{"name": "w", "datatype": "BYTES", "parameters": {"binary_data_size": 2}}], b"\0\0", None, "'w'"),
    ],
)
def test_malformed_binary_bodies_are_refused(
    inputs: list[dict[str, object]], tail: bytes, size: str | None, needle: str
) -> None:
    raw, header = _body(inputs, tail)
    with pytest.raises(InvalidInput, match=needle):
        unpack(raw, size if size is not None else header)
