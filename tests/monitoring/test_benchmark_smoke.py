"""The monitoring benchmark runs end to end at a tiny size; Keel and plain scipy agree (no timing asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "monitoring.py"


@pytest.mark.slow  # three fresh interpreters
def test_benchmark_smoke() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--rows",
            "3000",
            "--runs",
            "1",
            "--contenders",
            "keel,keel-default,scipy",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    drifted = {
        line.split()[0]: line.split("drifted ")[1].split("  (")[0]
        for line in done.stdout.splitlines()
        if " drifted " in line
    }
    assert set(drifted) == {"keel", "keel-default", "scipy"}, done.stdout
    assert drifted["keel"] == drifted["scipy"], done.stdout  # the same exact tests, the same verdicts
    assert "scipy / keel" in done.stdout and "keel-default / keel" in done.stdout
