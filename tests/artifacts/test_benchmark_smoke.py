"""benchmarks/cas.py runs end to end on tiny sizes (no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_cas_benchmark_runs_on_tiny_sizes(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "cas.py"),
            "--size-mb",
            "2",
            "--files",
            "20",
            "--file-kb",
            "4",
            "--upload-mb",
            "2",
            "--runs",
            "1",
            "--dir",
            str(tmp_path),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout[done.stdout.index("{") :])
    assert set(figures["median_s"]) == {"limit_large", "keel_large", "limit_small", "keel_small", "reput"}
    assert figures["upload"]["upload_mb"] == 2
    assert list(tmp_path.iterdir()) == []  # the work folder is removed
