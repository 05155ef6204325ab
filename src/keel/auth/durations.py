"""Durations written as people write them: ``30d``, ``12h``, ``90m``, ``2w``, ``45s``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final

from keel.core.errors import InvalidInput

_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_PATTERN: Final = re.compile(r"^\s*(\d{1,6})\s*([smhdw])\s*$")
#: Ten years: longer than any token or audit window anyone means.
MAX_SECONDS: Final = 10 * 365 * 86_400


def parse_duration(text: str, *, what: str = "duration") -> timedelta:
    """``"30d"`` -> 30 days; InvalidInput naming ``what`` for anything else."""
    match = _PATTERN.match(text)
    if match is None:
        raise InvalidInput(
            f"{what} {text!r} is not a duration; write a number and a unit s, m, h, d or w, e.g. 30d"
        )
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise InvalidInput(f"{what} {text!r} must be longer than zero")
    if seconds > MAX_SECONDS:
        raise InvalidInput(f"{what} {text!r} is longer than ten years")
    return timedelta(seconds=seconds)
