"""Checking keys and metric values, and keeping each param's type through storage.

Kept free of storage imports so the SDK can check a key before a point ever
reaches the buffer, and the service can check the same rules again.
"""

from __future__ import annotations

import contextlib
import json
import math
import numbers
import re
from typing import Annotated, Any, Final

from pydantic import PlainSerializer

from keel.core.errors import InvalidInput

MAX_KEY: Final = 250
_KEY = re.compile(r"^[A-Za-z0-9_./ \-]{1,250}$")
_valid_keys: set[str] = set()


def check_key(key: str, what: str = "key") -> str:
    """Return ``key`` if it is 1-250 letters, digits or ``_./ -``; InvalidInput naming it otherwise."""
    if key in _valid_keys:
        return key
    if not isinstance(key, str):
        raise InvalidInput(f"{what} must be a string, got {type(key).__name__}")
    if len(key) > MAX_KEY:
        raise InvalidInput(f"{what} {key[:40]!r}... is {len(key)} characters long; the limit is {MAX_KEY}")
    if not _KEY.match(key):
        raise InvalidInput(
            f"{what} {key!r} has characters other than letters, digits and '_./ -'",
            hint="rename it, e.g. replace ':' with '_'",
        )
    if len(_valid_keys) < 100_000:
        _valid_keys.add(key)
    return key


def check_value(key: str, value: Any) -> float:
    """A metric value as float; NaN and infinities pass, anything not a number is InvalidInput."""
    if isinstance(value, bool):
        raise InvalidInput(f"metric {key!r}: value {value!r} is not a number")
    if not isinstance(value, int | float):
        if isinstance(value, numbers.Real):
            return float(value)  # numpy float32, Fraction, ...
        raise InvalidInput(f"metric {key!r}: value {value!r} is not a number")
    return float(value)


def _encode_float(value: float) -> float | str:
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


#: A float that survives JSON: NaN and infinities travel as strings and come back as floats.
Number = Annotated[float, PlainSerializer(_encode_float, when_used="json")]

ParamValue = int | float | bool | str | list[Any] | dict[str, Any] | None


def encode_param(key: str, value: Any) -> tuple[str, str, float | None]:
    """(kind, text, number) for storage: the kind brings the type back; the number makes it searchable."""
    if isinstance(value, bool):
        return "bool", "true" if value else "false", None
    if isinstance(value, int):
        return "int", str(value), float(value)
    if isinstance(value, float):
        return "float", repr(value), value if math.isfinite(value) else None
    if isinstance(value, str):
        return "str", value, None
    try:
        return "json", json.dumps(value, sort_keys=True, separators=(",", ":")), None
    except (TypeError, ValueError):
        raise InvalidInput(
            f"param {key!r}: value of type {type(value).__name__} is not int, float, bool, str or JSON"
        ) from None


def decode_param(kind: str, text: str) -> Any:
    """The value :func:`encode_param` stored, with its type."""
    if kind == "bool":
        return text == "true"
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    if kind == "json":
        return json.loads(text)
    return text


def normalise_param(key: str, value: Any) -> Any:
    """The value as it will read back (numpy scalars become Python numbers, tuples lists)."""
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, list | dict | str):
        with contextlib.suppress(TypeError, ValueError):
            value = value.item()
    kind, text, _ = encode_param(key, value)
    return decode_param(kind, text)


def json_safe(value: Any) -> Any:
    """NaN and infinities as strings pydantic reads back as floats (JSON columns and bodies refuse them)."""
    if isinstance(value, float) and not math.isfinite(value):
        return _encode_float(value)
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value
