"""What a parity check returns: the verdict, and each mismatch named by feature and row."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class FeatureMismatch(BaseModel):
    """One transformed cell that differs: the feature, the sampled row (0-based), both values."""

    feature: str
    row: int
    expected: Any
    actual: Any


class ParityReport(BaseModel):
    """Training-time features against the serving-time replay of the same raw rows."""

    package: str | None = None
    fingerprint: str | None
    kind: str
    rows: int
    features: int
    rtol: float
    atol: float
    passed: bool
    mismatched: int
    mismatches: list[FeatureMismatch] = []
    message: str = ""
