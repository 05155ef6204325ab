"""benchmarks/pipelines.py runs end to end on a tiny pipeline, Keel only (no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_pipelines_benchmark_runs() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "pipelines.py"),
            "--runs",
            "1",
            "--stages",
            "3",
            "--no-dvc",
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    assert "3-stage linear pipeline" in done.stdout and "keel-python" in done.stdout
