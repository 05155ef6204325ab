"""Crash safety: after SIGKILL every flushed point is there and the database is intact; SIGTERM flushes and chains."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import keel
from keel.testing.fixtures import new_workspace

WRITER = textwrap.dedent(
    """
    import signal, sys, time
    import keel
    if sys.argv[2] == "chain":
        def previous(signum, frame):
            open(sys.argv[3], "w").write("previous handler ran")
            sys.exit(0)
        signal.signal(signal.SIGTERM, previous)
    keel.init(project="churn", home=sys.argv[1])
    run = keel.start_run(system_metrics=False, capture_env=False)
    for i in range(2000):
        run.log_metric("loss", float(i), step=i)
    if sys.argv[2] == "kill":
        run.flush()
    print(run.id, flush=True)
    i = 2000
    while True:
        if sys.argv[2] == "kill":
            run.log_metric("loss", float(i), step=i)
            i += 1
        if i % 500 == 0 or sys.argv[2] != "kill":
            time.sleep(0.01)
    """
)


def _start(tmp_path: Path, mode: str) -> tuple[subprocess.Popen[str], str, Any, Any]:
    settings = new_workspace(tmp_path / "ws")
    client = keel.connect(settings=settings)
    client.projects.create(name="churn")
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    proc = subprocess.Popen(
        [sys.executable, str(script), settings.home, mode, str(tmp_path / "marker")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "KEEL_HOME": settings.home},
    )
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    assert run_id, proc.stderr.read() if proc.stderr else ""
    return proc, run_id, client, settings


def test_sigkill_keeps_every_flushed_point_and_the_database_intact(tmp_path: Path) -> None:
    proc, run_id, client, settings = _start(tmp_path, "kill")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    steps = [p.step for p in client.runs.metric_history(run_id=run_id, key="loss")]
    assert steps[:2000] == list(range(2000))
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    db = sqlite3.connect(settings.db_url.removeprefix("sqlite:///"))
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        db.close()


def test_sigterm_flushes_ends_the_run_and_calls_the_previous_handler(tmp_path: Path) -> None:
    proc, run_id, client, _ = _start(tmp_path, "chain")
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    assert (tmp_path / "marker").read_text() == "previous handler ran"
    run = client.runs.get(run_id=run_id)
    assert run.status == "KILLED"
    assert len(client.runs.metric_history(run_id=run_id, key="loss")) == 2000


def test_sigterm_with_the_default_handler_still_terminates(tmp_path: Path) -> None:
    proc, run_id, client, _ = _start(tmp_path, "default")
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=20) == -signal.SIGTERM
    assert client.runs.get(run_id=run_id).status == "KILLED"
    assert len(client.runs.metric_history(run_id=run_id, key="loss")) == 2000


def test_an_uncaught_exception_marks_open_runs_failed(tmp_path: Path) -> None:
    settings = new_workspace(tmp_path / "ws")
    client = keel.connect(settings=settings)
    client.projects.create(name="churn")
    script = tmp_path / "crash.py"
    script.write_text(
        "import sys, keel\n"
        "keel.init(project='churn', home=sys.argv[1])\n"
        "run = keel.start_run(system_metrics=False, capture_env=False)\n"
        "run.log_metric('loss', 1.0)\n"
        "print(run.id, flush=True)\n"
        "raise RuntimeError('boom')\n"
    )
    done = subprocess.run(
        [sys.executable, str(script), settings.home], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1 and "boom" in done.stderr
    run = client.runs.get(run_id=done.stdout.strip())
    assert run.status == "FAILED" and run.metrics == {"loss": 1.0}
