"""Kill -9 during logging (issue 11): is the store consistent, and how many points are lost?

Each trial makes a fresh local workspace, starts a child process that opens
it with the SDK (``keel.init``, ``keel.start_run``) and logs ``x`` in a tight
loop, printing (flushed) how many points it has logged every ~100 ms. Once the
child reports its first count, the parent waits a random 1.5-3.5 s, notes the
count the child reported about 1 s before, and sends SIGKILL to the child's
pid. It then opens the workspace and checks:

* consistency: ``PRAGMA integrity_check`` is ``ok``, the run reads back
  through the client, its ``x`` history is readable and holds steps
  0..n-1 with no gap (points are logged in order, so a gap is a lost batch);
* loss: ``lost = max(0, count_1s_before - stored)``. The logger flushes at
  least once a second, so points older than a second should all be stored;
* status: the run is RUNNING right after the kill, and is marked KILLED once
  the heartbeat timeout passes (read with ``run_heartbeat_timeout_s=1``).

    python benchmarks/reliability.py --trials 10
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

REPORT_EVERY_S = 0.1
BEFORE_KILL_S = 1.0


def child(root: Path) -> None:
    """Log ``x`` as fast as the SDK accepts it, reporting the count every ~100 ms, until killed."""
    import keel

    os.chdir(root)
    keel.init()
    run = keel.start_run("kill-9", system_metrics=False)
    print(f"run {run.id}", flush=True)
    i = 0
    next_report = time.monotonic()
    while True:
        run.log_metric("x", float(i), step=i)
        i += 1
        if i % 64 == 0 and time.monotonic() >= next_report:
            print(f"count {i}", flush=True)
            next_report += REPORT_EVERY_S


@dataclass
class Trial:
    """What one trial saw."""

    wait_s: float
    count_at_kill: int
    count_1s_before: int
    stored: int
    contiguous: bool
    integrity: str
    status_after_kill: str
    status_after_reap: str
    error: str = ""

    @property
    def lost(self) -> int:
        return max(0, self.count_1s_before - self.stored)

    @property
    def consistent(self) -> bool:
        return not self.error and self.integrity == "ok" and self.contiguous


def read_reports(
    stream: IO[str], run_id: list[str], counts: list[tuple[float, int]], first: threading.Event
) -> None:
    """Collect the child's ``count N`` lines with the time each arrived."""
    for line in stream:
        parts = line.split()
        if len(parts) == 2 and parts[0] == "run":
            run_id.append(parts[1])
        elif len(parts) == 2 and parts[0] == "count":
            counts.append((time.monotonic(), int(parts[1])))
            first.set()


def trial(rng: random.Random, env: dict[str, str]) -> Trial:
    """Run one child, kill it mid-logging, and check what the workspace holds."""
    from keel.client import connect
    from keel.core.settings import load_settings
    from keel.sdk import create_local_workspace

    root = Path(tempfile.mkdtemp(prefix="keel-kill9-"))
    home = Path(create_local_workspace(root).settings.home)
    stderr = (root / "child-stderr.txt").open("w")  # a file, so a chatty child never blocks on a pipe
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", str(root)],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    run_ids: list[str] = []
    counts: list[tuple[float, int]] = []
    first = threading.Event()
    assert proc.stdout is not None
    reader = threading.Thread(target=read_reports, args=(proc.stdout, run_ids, counts, first), daemon=True)
    reader.start()
    if not first.wait(120):
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        err = (root / "child-stderr.txt").read_text()
        raise RuntimeError(f"child never started logging: {err[-2000:]}")
    wait_s = rng.uniform(1.5, 3.5)
    time.sleep(wait_s)
    kill_at = time.monotonic()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    reader.join(5)
    stderr.close()
    before = [n for t, n in counts if t <= kill_at - BEFORE_KILL_S]
    count_1s_before = before[-1] if before else 0
    count_at_kill = counts[-1][1]

    with sqlite3.connect(home / "keel.db") as db:
        integrity = ", ".join(str(r[0]) for r in db.execute("PRAGMA integrity_check"))
    result = Trial(wait_s, count_at_kill, count_1s_before, 0, False, integrity, "", "")
    try:
        client = connect(settings=load_settings({"home": str(home)}, env={}))
        result.status_after_kill = client.runs.get(run_id=run_ids[0]).status
        steps = [p.step for p in client.runs.metric_history(run_id=run_ids[0], key="x")]
        result.stored = len(steps)
        result.contiguous = sorted(steps) == list(range(len(steps)))
        time.sleep(1.5)  # past a 1 s heartbeat timeout: the next read marks the run KILLED
        reaper = connect(settings=load_settings({"home": str(home), "run_heartbeat_timeout_s": 1.0}, env={}))
        result.status_after_reap = reaper.runs.get(run_id=run_ids[0]).status
    except Exception as exc:  # report, never hide: the table says what failed
        result.error = f"{type(exc).__name__}: {exc}"
    shutil.rmtree(root, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child)
        return
    import keel

    rng = random.Random(args.seed)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    print(
        f"Keel {keel.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.trials} trials"
    )
    head = "| trial | wait s | last count before kill | logged 1 s before | stored | lost vs 1 s before | integrity | steps 0..n-1 | status after kill | after reap |"
    print(head)
    print("|" + "---:|" * 6 + "---|" * 4)
    trials: list[Trial] = []
    for n in range(1, args.trials + 1):
        t = trial(rng, env)
        trials.append(t)
        print(
            f"| {n} | {t.wait_s:.2f} | {t.count_at_kill:,} | {t.count_1s_before:,} | {t.stored:,} | {t.lost:,} "
            f"| {t.integrity} | {'yes' if t.contiguous else 'NO'} | {t.status_after_kill} | {t.status_after_reap} |"
            + (f" error: {t.error}" if t.error else ""),
            flush=True,
        )
    lost = [t.lost for t in trials]
    print()
    print(f"consistent: {sum(t.consistent for t in trials)} of {len(trials)}")
    print(
        f"points lost vs the count 1 s before the kill: max {max(lost):,}, median {statistics.median(lost):g}"
    )
    print(
        f"stored / last count before kill: median {statistics.median(t.stored / t.count_at_kill for t in trials):.3f}"
    )
    print(
        f"RUNNING after kill: {sum(t.status_after_kill == 'RUNNING' for t in trials)} of {len(trials)}; ",
        end="",
    )
    print(f"KILLED after reap: {sum(t.status_after_reap == 'KILLED' for t in trials)} of {len(trials)}")


if __name__ == "__main__":
    main()
