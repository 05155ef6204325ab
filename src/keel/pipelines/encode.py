"""Step outputs as bytes, deterministically, so the same value has the same digest everywhere.

Each encoding names its format beside the blob (``json/1``, ``bytes/1``,
``npy/1``, ``pickle/5``), as Metaflow records a blob's format: a reader picks
the decoder by that name, and a later Keel can add formats without breaking
old caches. JSON-able values are canonical JSON (sorted keys), bytes stay
raw, NumPy arrays are ``.npy``; anything else falls back to pickle, which is
deterministic for a given value and Python but executes code on load: the
cache is trusted like the user's own code, never an outside party's file.
"""

from __future__ import annotations

import io
import json
import pickle
from typing import Any

FORMATS = ("json/1", "bytes/1", "npy/1", "pickle/5")


def _json_able(value: Any, depth: int = 0) -> bool:
    if depth > 50:
        return False
    if value is None or isinstance(value, bool | str):
        return True
    if isinstance(value, int | float):
        return not (isinstance(value, float) and value != value)  # NaN does not round-trip in strict JSON
    if isinstance(value, list):
        return all(_json_able(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_able(v, depth + 1) for k, v in value.items())
    return False


def encode(value: Any) -> tuple[bytes, str]:
    """``(bytes, format)`` for a step's result."""
    if isinstance(value, bytes):
        return value, "bytes/1"
    if _json_able(value):
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
        return text.encode(), "json/1"
    try:
        import numpy as np

        if isinstance(value, np.ndarray) and value.dtype != object:
            buf = io.BytesIO()
            np.save(buf, value, allow_pickle=False)
            return buf.getvalue(), "npy/1"
    except ImportError:  # pragma: no cover - numpy is a base dependency
        pass
    return pickle.dumps(value, protocol=5), "pickle/5"


def decode(data: bytes, fmt: str) -> Any:
    """The value :func:`encode` turned into ``data``; raises ValueError for an unknown format."""
    if fmt == "bytes/1":
        return data
    if fmt == "json/1":
        return json.loads(data)
    if fmt == "npy/1":
        import numpy as np

        return np.load(io.BytesIO(data), allow_pickle=False)
    if fmt == "pickle/5":
        return pickle.loads(data)
    raise ValueError(f"unknown step output format {fmt!r} (this Keel reads {', '.join(FORMATS)})")
