"""Typed references between capabilities: ``kind:<id>``.

Capabilities never import each other sideways; they hold each other's ids as
references such as ``run:01J…`` or ``artifact:<blake3>``, and the lineage
graph stores edges between them.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

from keel.core.errors import InvalidInput

KINDS: Final = frozenset(
    {
        "project",
        "run",
        "dataset",
        "dataset_version",
        "model",
        "model_version",
        "artifact",
        "pipeline",
        "pipeline_run",
        "deployment",
        "monitor",
        "monitor_evaluation",
        "user",
        "validation_report",
    }
)

_REF = re.compile(r"^(?P<kind>[a-z_]+):(?P<id>[A-Za-z0-9._@/\-]{1,200})$")
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class Ref(NamedTuple):
    """A parsed reference."""

    kind: str
    id: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


def ref(kind: str, identifier: str) -> str:
    """The reference string for ``identifier`` of ``kind``."""
    return str(parse_ref(f"{kind}:{identifier}"))


def parse_ref(text: str) -> Ref:
    """Parse ``kind:<id>``; raises InvalidInput naming what is wrong."""
    match = _REF.match(text.strip())
    if not match:
        raise InvalidInput(
            f"not a reference: {text!r}",
            hint="write kind:<id>, e.g. run:01J2... or artifact:<64 hex digits>",
        )
    kind, identifier = match["kind"], match["id"]
    if kind not in KINDS:
        raise InvalidInput(
            f"unknown reference kind {kind!r} in {text!r}",
            hint="one of: " + ", ".join(sorted(KINDS)),
        )
    if kind == "artifact" and not _DIGEST.match(identifier):
        raise InvalidInput(f"artifact reference needs a 64-hex-digit BLAKE3 digest: {text!r}")
    return Ref(kind, identifier)
