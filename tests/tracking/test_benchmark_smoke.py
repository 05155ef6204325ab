"""benchmarks/tracking.py's Keel workers run end to end on small sizes (no timing is asserted).

MLflow lives in its own environment (benchmarks/.venv-peers), which CI does not have, so this
runs the Keel side of each workload through the worker entry point the benchmark itself uses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("workload", ["a", "b", "c"])
def test_keel_worker_runs_and_stores_everything(workload: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "tracking.py"),
            "--worker",
            "keel",
            "--workload",
            workload,
            "--dir",
            str(tmp_path),
            "--c-runs",
            "30",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    if workload == "a":
        assert figures["stored_last_key"] == 500 and figures["points_per_s"] > 0
    elif workload == "b":
        assert figures["stored"] == 5000 and figures["median_us"] > 0
    else:
        assert 0 < figures["found"] <= 30 and figures["query_s"] > 0
