"""Keys, metric values and typed params."""

from __future__ import annotations

import math

import numpy as np
import pytest

from keel.core.errors import InvalidInput
from keel.tracking.values import (
    check_key,
    check_value,
    decode_param,
    encode_param,
    json_safe,
    normalise_param,
)


@pytest.mark.parametrize("key", ["auc", "val/auc", "a.b-c d_e", "x" * 250])
def test_good_keys(key: str) -> None:
    assert check_key(key) == key


@pytest.mark.parametrize(
    ("key", "why"), [("a:b", "characters"), ("", "characters"), ("é", "characters"), ("x" * 251, "250")]
)
def test_bad_keys(key: str, why: str) -> None:
    with pytest.raises(InvalidInput, match=why):
        check_key(key)


def test_values_nan_inf_and_numpy() -> None:
    assert math.isnan(check_value("k", float("nan"))) and check_value("k", -math.inf) == -math.inf
    assert check_value("k", np.float32(0.5)) == 0.5 and check_value("k", 3) == 3.0
    for bad in ("1", None, True, [1]):
        with pytest.raises(InvalidInput, match="not a number"):
            check_value("k", bad)


@pytest.mark.parametrize("value", [6, 0.1, True, False, "adam", [1, "a"], {"a": {"b": None}}, None, 2**60])
def test_params_keep_their_type(value: object) -> None:
    kind, text, _ = encode_param("p", value)
    back = decode_param(kind, text)
    assert back == value and type(back) is type(value)


def test_numeric_params_are_searchable_and_numpy_is_normalised() -> None:
    assert encode_param("p", 6)[2] == 6.0 and encode_param("p", True)[2] is None
    assert normalise_param("p", np.int64(4)) == 4 and type(normalise_param("p", np.int64(4))) is int
    with pytest.raises(InvalidInput, match="not int, float"):
        encode_param("p", object())


def test_json_safe() -> None:
    assert json_safe({"a": [float("nan"), math.inf, 1.0]}) == {"a": ["NaN", "Infinity", 1.0]}
