"""What the deployment operations take and return, and the ``ref:10%`` canary notation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints

from keel.core.errors import InvalidInput

DeploymentName = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", min_length=1, max_length=100)
]


class Deployment(BaseModel):
    """A deployment as listed: what it follows and which version numbers that resolves to now.

    A ``*_version`` of None means the reference holds nothing at the moment
    (an alias that was removed); ``keel serve`` then answers not-ready.
    """

    id: str
    project: str
    name: str
    model: str
    target: str
    version: int | None
    canary: str | None
    canary_percent: int
    canary_version: int | None
    shadow: str | None
    shadow_version: int | None
    allow_unsafe_pickle: bool
    settings: dict[str, Any]
    created_by: str
    created_at: datetime
    updated_at: datetime

    @property
    def ref(self) -> str:
        return f"deployment:{self.id}"


def check_percent(percent: int) -> int:
    """A canary share is a whole percentage from 0 to 100 (InvalidInput naming ``canary_percent``)."""
    if isinstance(percent, bool) or not 0 <= percent <= 100:
        raise InvalidInput(f"canary_percent is {percent}; a canary share must be from 0 to 100 (percent)")
    return percent


def split_canary(text: str) -> tuple[str, int]:
    """``("churn@candidate", 10)`` from ``churn@candidate:10%`` (the share defaults to 10)."""
    ref, sep, share = text.rpartition(":")
    if not sep:
        return text, 10
    number = share.strip().removesuffix("%")
    if not number.lstrip("-").isdigit():
        raise InvalidInput(f"canary {text!r}: {share!r} is not a percentage; write REF:10%")
    return ref, check_percent(int(number))
