"""The validation benchmark runs end to end at a tiny size (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "validation.py"
PEER = BENCH.parent / ".venv-peers" / "bin" / "python"


def _peer_has(*modules: str) -> bool:
    if not PEER.exists():
        return False
    probe = subprocess.run([str(PEER), "-c", f"import {', '.join(modules)}"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.slow
def test_benchmark_smoke() -> None:
    if not _peer_has("pandera", "polars"):
        pytest.skip("benchmarks/.venv-peers lacks pandera and polars (the peers live there)")
    done = subprocess.run(
        [sys.executable, str(BENCH), "--rows", "2000", "--runs", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    for tool in ("keel", "pandera-pandas", "pandera-polars"):
        assert tool in done.stdout


def test_fairness_benchmark_child(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("keel_validation_benchmark", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    data = tmp_path / "fair.npz"
    bench.fairness_data(500, data)
    done = subprocess.run(
        [sys.executable, str(BENCH), "--child", "fair-keel", "--data", str(data)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    points = json.loads(done.stdout.strip().splitlines()[-1])["points"]
    assert set(points) == {
        "demographic_parity_difference",
        "demographic_parity_ratio",
        "equalized_odds_difference",
        "equalized_odds_ratio",
    }
