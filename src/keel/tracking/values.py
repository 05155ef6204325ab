"""Checking keys, metric points, params and tags, and keeping each param's type through storage.

Kept free of storage imports so the SDK can check a point before it ever
reaches the buffer (:func:`checked_point`, the hot path), and the service can
check the same rules again at the edge. Steps and timestamps are 64-bit
integers in storage, so anything outside that range is refused here rather
than overflowing later; text that PostgreSQL cannot store (NUL) likewise.
"""

from __future__ import annotations

import contextlib
import json
import math
import numbers
import re
import time
from collections.abc import Mapping
from typing import Annotated, Any, Final

from pydantic import Field, PlainSerializer

from keel.core.errors import InvalidInput

MAX_KEY: Final = 250
_KEY = re.compile(r"^[A-Za-z0-9_./ \-]{1,250}$")
#: Keys already checked in this process (bounded), so the hot path checks each key once.
KNOWN_KEYS: set[str] = set()
_KNOWN_MAX: Final = 100_000

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
#: A metric step or a Unix-ms timestamp as the API takes it: a signed 64-bit integer.
Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
#: Largest GPU energy (kWh) and hourly price one run may report: far above any real figure, and
#: small enough that summing a project's runs can never overflow a float.
MAX_ENERGY_KWH: Final = 1e9
MAX_HOURLY_PRICE: Final = 1e6


def now_ms() -> int:
    """The current time in Unix milliseconds (what a point's timestamp defaults to)."""
    return time.time_ns() // 1_000_000


def check_key(key: str, what: str = "key") -> str:
    """Return ``key`` if it is 1-250 letters, digits or ``_./ -``; InvalidInput naming it otherwise."""
    if key in KNOWN_KEYS:
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
    if len(KNOWN_KEYS) < _KNOWN_MAX:
        KNOWN_KEYS.add(key)
    return key


def check_text(value: str, what: str) -> str:
    """Return ``value`` unless it holds a NUL character (no database stores one in text)."""
    if "\x00" in value:
        raise InvalidInput(f"{what} contains a NUL character (\\x00)", hint="remove it")
    return value


def check_int64(value: int, what: str) -> int:
    """Return ``value`` if it fits a signed 64-bit integer; InvalidInput naming ``what`` otherwise."""
    if not INT64_MIN <= value <= INT64_MAX:
        raise InvalidInput(f"{what} {value} is out of range; it must fit a signed 64-bit integer")
    return value


def check_amount(value: float | None, what: str, limit: float) -> float | None:
    """A finite figure in [0, limit] (energy, price), or None; InvalidInput naming it otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{what} must be a number, got {value!r}")
    if not (math.isfinite(value) and 0 <= value <= limit):
        raise InvalidInput(f"{what} must be a number from 0 to {limit:g}, got {value!r}")
    return float(value)


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
        return "str", check_text(value, f"param {key!r}"), None
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


# -- the SDK's hot path: points checked once, before they reach the buffer --------------------------

Point = tuple[str, float, int, int]


def checked_step(key: str, step: Any) -> int:
    """The step as an int (0 when None); InvalidInput unless it is an integer that fits 64 bits."""
    if step is None:
        return 0
    if isinstance(step, bool) or not hasattr(step, "__index__"):
        raise InvalidInput(f"metric {key!r}: step must be an integer, got {step!r}")
    return check_int64(int(step), f"metric {key!r}: step")


def _timestamp(key: str, timestamp: Any) -> int:
    if timestamp is None:
        return now_ms()
    if isinstance(timestamp, bool) or not hasattr(timestamp, "__index__"):
        raise InvalidInput(f"metric {key!r}: timestamp must be an integer (Unix ms), got {timestamp!r}")
    return check_int64(int(timestamp), f"metric {key!r}: timestamp")


def checked_points(metrics: Mapping[str, Any], step: Any, timestamp: Any) -> list[Point]:
    """Points for several metrics at one step, keys and values checked (the hot path: kept lean)."""
    ts = _timestamp("metrics", timestamp)
    if step.__class__ is not int or not INT64_MIN <= step <= INT64_MAX:
        step = checked_step("metrics", step)
    known = KNOWN_KEYS
    out = []
    for key, value in metrics.items():
        if key not in known:
            check_key(key, "metric key")
        if value.__class__ is not float:
            value = check_value(key, value)
        out.append((key, value, step, ts))
    return out


def checked_point(key: str, value: Any, step: Any, timestamp: Any) -> Point:
    """One point with its key, value, step and timestamp checked, ready for ``RunLogger.log``."""
    if key not in KNOWN_KEYS:
        check_key(key, "metric key")
    if value.__class__ is not float:
        value = check_value(key, value)
    if step.__class__ is not int or not INT64_MIN <= step <= INT64_MAX:
        step = checked_step(key, step)
    return (key, value, step, _timestamp(key, timestamp))
