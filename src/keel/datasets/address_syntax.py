"""Addresses of dataset versions: ``name@v3``, ``name@latest``, ``name@golden``, ``project/name@<digest>``.

Parsing is pure; :func:`split_address` gives (project or None, name,
selector) and the service resolves the selector against its tables.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

from keel.core.errors import InvalidInput

_ADDRESS: Final = re.compile(
    r"^(?:(?P<project>[A-Za-z0-9][A-Za-z0-9_.\-]*)/)?(?P<name>[A-Za-z0-9][A-Za-z0-9_.\-]*)(?:@(?P<sel>[A-Za-z0-9_.\-]+))?$"
)
_NUMBER: Final = re.compile(r"^v?(\d+)$")
_DIGEST: Final = re.compile(r"^[0-9a-f]{64}$")


class Address(NamedTuple):
    """A parsed version address; ``project`` is None when it should come from the settings."""

    project: str | None
    name: str
    selector: str


def split_address(text: str) -> Address:
    """Parse ``[project/]name[@selector]`` (selector defaults to ``latest``); InvalidInput if malformed."""
    match = _ADDRESS.match(text.strip())
    if not match:
        raise InvalidInput(
            f"not a dataset address: {text!r}",
            hint="write name@v3, name@latest, name@<tag>, or project/name@v3",
        )
    return Address(match["project"], match["name"], match["sel"] or "latest")


def selector_kind(selector: str) -> tuple[str, str | int]:
    """What a selector names: ``("latest", ...)``, ``("number", 3)``, ``("digest", hex)`` or ``("tag", name)``."""
    if selector == "latest":
        return "latest", selector
    number = _NUMBER.match(selector)
    if number:
        return "number", int(number[1])
    if _DIGEST.match(selector):
        return "digest", selector
    return "tag", selector
