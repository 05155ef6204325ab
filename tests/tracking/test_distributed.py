"""Several processes log to one run at once (distributed training): every point of every process is kept."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keel
from keel.testing.fixtures import new_workspace

WORKER = textwrap.dedent(
    """
    import sys
    import keel
    keel.init(home=sys.argv[1])
    rank = int(sys.argv[3])
    with keel.start_run(run_id=sys.argv[2], system_metrics=False, capture_env=False) as run:
        assert not run.owner
        for i in range(1000):
            run.log_metric("loss", float(rank), step=rank * 1000 + i)
    """
)


def test_workers_attach_log_and_leave_the_run_to_its_owner(tmp_path: Path) -> None:
    settings = new_workspace(tmp_path / "ws")
    keel.init(project="dist", create=True, home=settings.home)
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    with keel.start_run(name="ddp", system_metrics=False, capture_env=False) as run:
        workers = [
            subprocess.Popen([sys.executable, str(script), settings.home, run.id, str(rank)], env=env)
            for rank in (1, 2)
        ]
        run.log_metric("loss", 0.0, step=0)
        assert [w.wait(timeout=60) for w in workers] == [0, 0]
        assert keel.get_run(run.id).status == "RUNNING"  # the workers did not end it
    stored = keel.get_run(run.id)
    assert stored.status == "FINISHED"
    steps = [p.step for p in stored.metric_history("loss")]
    assert steps == [0, *range(1000, 3000)]
    assert stored.metrics["loss"] == 2.0  # the highest step's value
