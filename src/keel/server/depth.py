"""How deep a JSON request body nests, told before anything parses it.

Python's JSON parser recurses once per level: a body of 1,000 nested arrays
raised RecursionError in the first ``json.loads`` (a 500), and shallower but
still silly nesting reached the database as a JSON column. The security
middleware refuses a body nested deeper than :data:`MAX_BODY_DEPTH` with a 422
naming the field where it happened, before any parser sees it.

The check is linear and runs in C: strings are blanked by one regular
expression (so brackets inside them do not count), then NumPy sums +1 for
each opening and -1 for each closing bracket. Only a body that fails is
scanned again in Python, to name the field.
"""

from __future__ import annotations

import re
from typing import Final

from keel.core.edge import MAX_DEPTH

#: Levels a request body may nest: the deepest free-form value an operation accepts, plus the
#: levels its own fields take (body -> field -> ...).
MAX_BODY_DEPTH: Final = MAX_DEPTH + 4
_STRING: Final = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_TOKEN: Final = re.compile(rb'"((?:[^"\\]|\\.)*)"|[\[\]{}:,]', re.DOTALL)


def max_depth(body: bytes) -> int:
    """The deepest nesting of brackets in ``body``, strings excluded."""
    import numpy as np

    blanked = _STRING.sub(b'""', body)
    codes = np.frombuffer(blanked, dtype=np.uint8)
    steps = (codes == ord("[")).astype(np.int32) + (codes == ord("{"))
    steps -= (codes == ord("]")).astype(np.int32) + (codes == ord("}"))
    return int(np.cumsum(steps).max()) if len(steps) else 0


def too_deep(body: bytes, limit: int = MAX_BODY_DEPTH) -> str | None:
    """None if ``body`` nests at most ``limit`` deep; otherwise the path of the field where it
    first went deeper (``environment.a.0.0``, its first levels), or ``body`` at the top."""
    if max_depth(body) <= limit:
        return None
    frames: list[list[str | int | None]] = []  # [kind, key or index] per open container
    last = ""
    for match in _TOKEN.finditer(body):
        text = match.group(1)
        token = match.group(0)[:1]
        if text is not None:
            last = text.decode("utf-8", "replace")
        elif token == b":" and frames and frames[-1][0] == "{":
            frames[-1][1] = last
        elif token == b"," and frames and frames[-1][0] == "[":
            frames[-1][1] = int(frames[-1][1] or 0) + 1
        elif token in (b"{", b"["):
            frames.append(["{", None] if token == b"{" else ["[", 0])
            if len(frames) > limit:
                labels = [str(f[1]) for f in frames if f[1] is not None]
                return ".".join(labels[:6]) or "body"
        elif token in (b"}", b"]") and frames:
            frames.pop()
    return "body"
