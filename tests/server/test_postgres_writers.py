"""32 writer processes with editor tokens through a real ``keel server`` on PostgreSQL (issue 11.1).

Before the fix, a non-admin batch held a write session while the role check
opened a second connection: with enough concurrent editors the pool ran dry,
requests deadlocked until the pool timeout and answered 500 (0 of 32 clients
finished, 19% of points stored). Now one request holds at most one
connection, so every writer finishes and every point is stored; a pool
timeout, should one happen, is a 503 the SDK retries.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from keel.client import connect
from keel.core.settings import load_settings
from keel.testing.fixtures import ServerProcess, new_workspace

WRITERS = 32
EDITORS = 8
BATCHES = 8
POINTS = 50

#: One writer: wait for the start file, then create a run and log BATCHES batches as an editor.
#: It speaks HTTP with httpx alone (importing the SDK costs seconds of CPU per process, which
#: 32 processes on two cores would spend before writing anything) and, as the SDK does,
#: retries a 503 after its Retry-After; any other refusal ends it with an error.
WRITER = """
import json, os, sys, time
import httpx
url, token, start, index, batches, points = sys.argv[1:7]
http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
retried = 0
def call(path, body):
    global retried
    for attempt in range(10):
        r = http.post(path, json=body)
        if r.status_code != 503:
            break
        retried += 1
        time.sleep(float(r.headers.get("Retry-After", "1")))
    if r.status_code >= 300:
        sys.exit(f"{path}: {r.status_code} {r.text[:300]}")
    return r.json()
while not os.path.exists(start):
    time.sleep(0.01)
run = call("/api/v1/runs", {"project": "load", "name": f"writer-{index}"})["id"]
stored = 0
for b in range(int(batches)):
    batch = [[f"m{i % 4}", float(i), b * int(points) + i, 1_700_000_000_000 + i] for i in range(int(points))]
    stored += call(f"/api/v1/runs/{run}/batch", {"metrics": batch})["metrics"]
call(f"/api/v1/runs/{run}/end", {})
print(json.dumps({"run": run, "stored": stored, "retried_503": retried}))
"""


@pytest.mark.postgres
@pytest.mark.slow
def test_32_editor_writers_store_every_point(postgres_url: str, tmp_path: Path) -> None:
    admin = connect(settings=load_settings({"db_url": postgres_url}, env={}, cwd=tmp_path))
    admin_secret = str(admin.users.add(name="load-admin", admin=True).secret)
    admin.projects.create(name="load")
    tokens = []
    for n in range(EDITORS):
        tokens.append(str(admin.users.add(name=f"editor{n}").secret))
        admin.roles.grant(project="load", user=f"editor{n}", role="editor")

    settings = new_workspace(tmp_path / "server")
    server = ServerProcess(Path(settings.home), env={"KEEL_DB_URL": postgres_url}, token=admin_secret)
    start = tmp_path / "start"
    writers: list[subprocess.Popen[str]] = []
    try:
        server.wait_ready()
        env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
        for i in range(WRITERS):
            args = [server.url, tokens[i % EDITORS], str(start), str(i), str(BATCHES), str(POINTS)]
            writers.append(
                subprocess.Popen(
                    [sys.executable, "-c", WRITER, *args],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        time.sleep(0.5)
        began = time.monotonic()
        start.touch()
        results, failures = [], []
        deadline = time.monotonic() + 90
        for proc in writers:
            try:
                out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                failures.append("did not finish within 90 s")
                continue
            if proc.returncode == 0:
                results.append(json.loads(out.strip().splitlines()[-1]))
            else:
                failures.append(err.strip().splitlines()[-1] if err.strip() else f"exit {proc.returncode}")
    finally:
        for proc in writers:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        server.stop()
    took = time.monotonic() - began
    log = (Path(settings.home) / "server.log").read_text()
    assert failures == [], (failures[:3], log[-2000:])
    expected = BATCHES * POINTS
    assert [r["stored"] for r in results] == [expected] * WRITERS
    stored = 0
    for r in results:
        run = admin.runs.get(run_id=r["run"])
        assert run.status == "FINISHED"
        for key in ("m0", "m1", "m2", "m3"):
            stored += len(admin.runs.metric_history(run_id=r["run"], key=key))
    assert stored == WRITERS * expected
    retried = sum(r["retried_503"] for r in results)
    print(
        f"\n{WRITERS} editor writers: {stored} of {WRITERS * expected} points stored in {took:.1f} s, "
        f"{len(failures)} failed, {retried} answers 503"
    )
    # one connection per request: nobody waits on the pool until it gives up
    assert retried == 0
    assert "internal error" not in log and "QueuePool" not in log
