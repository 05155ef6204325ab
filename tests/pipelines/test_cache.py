"""The cache key: what changes it and what does not; outputs encode to the same bytes every time."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import keel.pipelines as kp
from keel.pipelines.cache import cache_key, code_digest
from keel.pipelines.encode import decode, encode
from pipelines import steps_demo as demo


def _key(plan: Any, name: str, inputs: dict[str, str] | None = None) -> str:
    node = plan.nodes[name]
    return cache_key(node, code_digest(node.step), inputs or {})


def test_the_key_covers_params_inputs_and_environment() -> None:
    plan = demo.demo.plan()
    base = _key(plan, "prepare", {"rows": "a" * 64})
    assert base == _key(demo.demo.plan(), "prepare", {"rows": "a" * 64})  # stable
    assert base != _key(demo.demo.plan({"factor": 3.0}), "prepare", {"rows": "a" * 64})
    assert base != _key(plan, "prepare", {"rows": "b" * 64})
    node = plan.nodes["prepare"]
    node.step.env["sklearn"] = "1.5"
    try:
        assert base != _key(plan, "prepare", {"rows": "a" * 64})
    finally:
        del node.step.env["sklearn"]


def test_the_code_digest_follows_helpers_of_the_same_module(monkeypatch: pytest.MonkeyPatch) -> None:
    before = code_digest(demo.prepare)
    assert before != code_digest(demo.total)

    def scale(x: float, factor: float) -> float:  # an edited helper
        return x * factor * 1

    scale.__module__ = demo.__name__
    monkeypatch.setattr(demo, "scale", scale)
    assert code_digest(demo.prepare) != before
    # a step that does not call the helper keeps its key
    assert code_digest(demo.total) == code_digest(demo.total)


def test_a_step_declares_its_environment_and_resources() -> None:
    @kp.step(cpu=2, gpu=1, memory=1024, env={"torch": "2.4"})
    def fit(x: int) -> int:
        return x

    assert fit.resources == kp.Resources(cpu=2, gpu=1, memory=1024) and fit.env == {"torch": "2.4"}
    with pytest.raises(Exception, match="must not be negative"):
        kp.step(cpu=-1)


@pytest.mark.parametrize(
    ("value", "fmt"),
    [
        ({"b": 1, "a": [1.5, None, "x"]}, "json/1"),
        (b"\x00raw", "bytes/1"),
        (np.arange(6, dtype=np.float32).reshape(2, 3), "npy/1"),
        ((1, 2), "pickle/5"),
    ],
)
def test_outputs_round_trip_in_their_format(value: Any, fmt: str) -> None:
    data, got = encode(value)
    assert got == fmt and encode(value)[0] == data
    back = decode(data, fmt)
    if isinstance(value, np.ndarray):
        assert np.array_equal(back, value)
    else:
        assert back == value


def test_json_is_canonical_and_an_unknown_format_is_refused() -> None:
    assert encode({"b": 1, "a": 2})[0] == b'{"a":2,"b":1}'
    with pytest.raises(ValueError, match="unknown step output format 'zip/9'"):
        decode(b"", "zip/9")
