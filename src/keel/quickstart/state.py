"""What the quickstart's stages share: the project they build and the state they pass on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT = "churn"
KPIS = [
    "accuracy >= 0.74",
    "roc_auc >= 0.79",
    "demographic_parity_difference <= 0.10 group=gender",
    "latency_p99_ms <= 50 stage=online",
]


@dataclass
class Quickstart:
    """What the stages share: the client, the folder, and what earlier stages made.

    A stage reads what it needs from here and records what later stages need; ``step``
    prints a numbered step and ``more`` an indented line under it.
    """

    client: Any
    directory: Path
    say: Callable[[str], None]
    table_path: Path | None = None
    dataset_versions: list[Any] = field(default_factory=list)  # churn-train versions, oldest first
    ended_runs: list[Any] = field(default_factory=list)
    fitted: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # run id -> (model, input example)
    model_version: Any = None  # the registered churn version, once the registry stage ran
    number: int = 0

    def step(self, text: str) -> None:
        self.number += 1
        self.say(f"{self.number}. {text}")

    def more(self, text: str) -> None:
        self.say(f"   {text}")
