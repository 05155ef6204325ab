"""How long the CLI takes to answer: `keel --help` (target < 0.3 s) and a first real command.

Also times a bare `python -c pass` in the same run, since interpreter start-up
is the floor no CLI can beat. Prints the median of --runs runs for each.

    python benchmarks/startup.py --runs 7
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    keel = shutil.which("keel") or str(Path(sys.executable).with_name("keel"))
    tmp = Path(tempfile.mkdtemp(prefix="keel-startup-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    subprocess.run([keel, "init"], cwd=tmp, env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(
        [keel, "project", "create", "churn", "--kpi", "auc >= 0.9"],
        cwd=tmp,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "keel --help": [keel, "--help"],
        "keel project ls --json": [keel, "project", "ls", "--json"],
    }
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):  # alternate, so machine noise hits each command alike
        for name, cmd in commands.items():
            samples[name].append(timed(cmd, tmp, env))
    for name, values in samples.items():
        print(f"{name:28s} median {statistics.median(values) * 1000:7.1f} ms  (n={len(values)})")
    floor = statistics.median(samples["python -c pass"])
    help_ = statistics.median(samples["keel --help"])
    print(f"keel --help over interpreter start-up: {help_ / floor:.2f}x")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
