"""The validation benchmark runs end to end at a tiny size (no timing asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "validation.py"
PEER = BENCH.parent / ".venv-peers" / "bin" / "python"


@pytest.mark.slow
def test_benchmark_smoke() -> None:
    if not PEER.exists():
        pytest.skip("benchmarks/.venv-peers is not set up (pandera and polars live there)")
    done = subprocess.run(
        [sys.executable, str(BENCH), "--rows", "2000", "--runs", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    for tool in ("keel", "pandera-pandas", "pandera-polars"):
        assert tool in done.stdout
