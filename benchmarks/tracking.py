"""Experiment tracking: Keel beside MLflow on the same workloads (issue 4).

Workloads, each tool in a fresh process on a fresh store, alternating, median of --runs:

- (a) ingest 20 runs x 10 metrics x 500 steps (100,000 points) into local SQLite with each
  tool's fastest documented API: Keel's ``start_run`` + ``run.log_metrics(..., step=)``
  (buffered; timed until ``end_run`` has stored every point), MLflow's
  ``MlflowClient.log_batch`` (1,000 metrics per call, its limit);
- (b) 5,000 single ``log_metric`` calls on the training thread: median microseconds per call,
  then every point checked stored after ``end_run``;
- (c) --c-runs runs (default 5,000) with 5 params and 5 metrics, then a filtered, ordered
  search returning about 1,000 runs with their params and metrics (median of 5 queries);
  run creation rate reported too;
- (d) (a) through each tool's HTTP server (``keel server --no-auth``; ``mlflow server
  --workers 1``), with the peak resident memory of the server's whole process tree;
- (s) durability (issue 11.12): Keel on SQLite with ``db_synchronous=normal`` (the default:
  WAL synced at checkpoints, a power cut may lose the last commits) beside ``full`` (every
  commit synced, as MLflow's SQLite runs), alternating: --s-runs small transactions (a run
  created, one batch, ended: three commits each) and the buffered ingest of (a). Keel alone,
  so it needs no peers environment.

MLflow runs from its own environment (benchmarks/.venv-peers, never a Keel dependency):

    python3 -m venv benchmarks/.venv-peers && benchmarks/.venv-peers/bin/pip install mlflow
    .venv/bin/python benchmarks/tracking.py                     # the issue's sizes
    .venv/bin/python benchmarks/tracking.py --runs 1 --c-runs 200 --workloads ab   # a smoke run
    .venv/bin/python benchmarks/tracking.py --workloads s       # durability: normal vs full

This file is also the worker: ``--worker keel|mlflow`` runs one workload and prints JSON.
Only the standard library is imported at the top, so the peers' Python can run it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PEERS_PYTHON = HERE / ".venv-peers" / "bin" / "python"
RUNS_A, METRICS_A, STEPS_A = 20, 10, 500
CALLS_B = 5000


# -- workers --------------------------------------------------------------------------------------


def keel_worker(workload: str, work: Path, url: str | None, c_runs: int) -> dict[str, Any]:
    if workload.startswith("s-"):  # s-normal / s-full: the durability workload in that mode
        os.environ["KEEL_DB_SYNCHRONOUS"] = workload[2:]
    import keel

    if url:
        client = keel.init(url=url)
    else:
        from keel.core.workspace import create_workspace
        from keel.store.migrate import upgrade_url

        home, _ = create_workspace(work)
        upgrade_url(f"sqlite:///{home / 'keel.db'}")
        client = keel.init(home=home)
    project = f"bench-{workload}"
    client.projects.create(name=project)
    keel.init(project=project, url=url, home=None if url else work / ".keel")
    out: dict[str, Any] = {}
    if workload.startswith("s-"):
        return _durability_worker(client, project, c_runs, work / ".keel")
    if workload in ("a", "d"):
        started = time.perf_counter()
        ids = []
        for _ in range(RUNS_A):
            with keel.start_run(system_metrics=False, capture_env=False) as run:
                for step in range(STEPS_A):
                    run.log_metrics({f"m{k}": 0.5 + step * 1e-4 + k for k in range(METRICS_A)}, step=step)
            ids.append(run.id)
        seconds = time.perf_counter() - started
        stored = len(keel.get_run(ids[-1]).metric_history("m3"))
        out = {"points_per_s": RUNS_A * METRICS_A * STEPS_A / seconds, "stored_last_key": stored}
    elif workload == "b":
        times = []
        with keel.start_run(system_metrics=False, capture_env=False) as run:
            clock = time.perf_counter_ns
            for i in range(CALLS_B):
                t0 = clock()
                run.log_metric("loss", 1.0 / (i + 1), step=i)
                times.append(clock() - t0)
        stored = len(keel.get_run(run.id).metric_history("loss"))
        out = {"median_us": statistics.median(times) / 1000, "p99_us": _p99(times) / 1000, "stored": stored}
    elif workload == "c":
        c = client
        rng = random.Random(0)
        started = time.perf_counter()
        for i in range(c_runs):
            params = {"p0": i % 7, "p1": "x", "p2": rng.random(), "p3": f"s{i % 3}", "p4": i}
            info = c.runs.create(project=project, params=params)
            c.runs.log_batch(run_id=info.id, metrics=[(f"m{k}", rng.random(), 0, 0) for k in range(5)])
            c.runs.end(run_id=info.id)
        create_rate = c_runs / (time.perf_counter() - started)
        query_times, found = [], 0
        for _ in range(5):
            t0 = time.perf_counter()
            page = c.runs.search(
                project=project,
                filter="metrics.m0 > 0.8 and params.p1 = 'x'",
                order_by=["metrics.m0 desc"],
                limit=1000,
            )
            query_times.append(time.perf_counter() - t0)
            found = len(page.items)
            assert all(len(r.params) == 5 and len(r.metrics) == 5 for r in page.items)
        out = {"runs_per_s": create_rate, "query_s": statistics.median(query_times), "found": found}
    return out


def _durability_worker(client: Any, project: str, small: int, home: Path) -> dict[str, Any]:
    """(s): ``small`` runs of three commits each (create, one batch, end), then (a)'s ingest."""
    from sqlalchemy import text

    import keel
    from keel.context import Context
    from keel.core.settings import load_settings

    with Context(load_settings({"home": str(home)})).store.read() as session:  # the mode in force
        pragma = int(session.execute(text("PRAGMA synchronous")).scalar_one())
    started = time.perf_counter()
    for i in range(small):
        info = client.runs.create(project=project, params={"i": i})
        client.runs.log_batch(run_id=info.id, metrics=[("loss", 1.0 / (i + 1), 0, 0)])
        client.runs.end(run_id=info.id)
    commits_per_s = 3 * small / (time.perf_counter() - started)
    started = time.perf_counter()
    last = ""
    for _ in range(RUNS_A):
        with keel.start_run(system_metrics=False, capture_env=False) as run:
            for step in range(STEPS_A):
                run.log_metrics({f"m{k}": 0.5 + step * 1e-4 + k for k in range(METRICS_A)}, step=step)
        last = run.id
    points_per_s = RUNS_A * METRICS_A * STEPS_A / (time.perf_counter() - started)
    stored = len(keel.get_run(last).metric_history("m3"))
    return {
        "commits_per_s": commits_per_s,
        "points_per_s": points_per_s,
        "stored_last_key": stored,
        "pragma": pragma,
    }


def mlflow_worker(workload: str, work: Path, url: str | None, c_runs: int) -> dict[str, Any]:
    import logging

    import mlflow
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    mlflow.set_tracking_uri(url or f"sqlite:///{work / 'mlflow.db'}")
    client = MlflowClient()
    experiment = client.create_experiment(f"bench-{workload}", artifact_location=str(work / "artifacts"))
    out: dict[str, Any] = {}
    if workload in ("a", "d"):
        started = time.perf_counter()
        last = ""
        for _ in range(RUNS_A):
            run = client.create_run(experiment)
            ts = int(time.time() * 1000)
            metrics = [
                Metric(f"m{k}", 0.5 + step * 1e-4 + k, ts, step)
                for step in range(STEPS_A)
                for k in range(METRICS_A)
            ]
            for i in range(0, len(metrics), 1000):
                client.log_batch(run.info.run_id, metrics=metrics[i : i + 1000])
            client.set_terminated(run.info.run_id)
            last = run.info.run_id
        seconds = time.perf_counter() - started
        stored = len(client.get_metric_history(last, "m3"))
        out = {"points_per_s": RUNS_A * METRICS_A * STEPS_A / seconds, "stored_last_key": stored}
    elif workload == "b":
        mlflow.set_experiment(experiment_id=experiment)
        times = []
        with mlflow.start_run() as run:
            clock = time.perf_counter_ns
            for i in range(CALLS_B):
                t0 = clock()
                mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
                times.append(clock() - t0)
        stored = len(client.get_metric_history(run.info.run_id, "loss"))
        out = {"median_us": statistics.median(times) / 1000, "p99_us": _p99(times) / 1000, "stored": stored}
    elif workload == "c":
        rng = random.Random(0)
        started = time.perf_counter()
        for i in range(c_runs):
            run = client.create_run(experiment)
            params = {"p0": i % 7, "p1": "x", "p2": rng.random(), "p3": f"s{i % 3}", "p4": i}
            client.log_batch(
                run.info.run_id,
                metrics=[Metric(f"m{k}", rng.random(), 0, 0) for k in range(5)],
                params=[Param(k, str(v)) for k, v in params.items()],
            )
            client.set_terminated(run.info.run_id)
        create_rate = c_runs / (time.perf_counter() - started)
        query_times, found = [], 0
        for _ in range(5):
            t0 = time.perf_counter()
            runs = client.search_runs(
                [experiment],
                filter_string="metrics.m0 > 0.8 and params.p1 = 'x'",
                order_by=["metrics.m0 DESC"],
                max_results=1000,
            )
            query_times.append(time.perf_counter() - t0)
            found = len(runs)
            assert all(len(r.data.params) == 5 and len(r.data.metrics) == 5 for r in runs)
        out = {"runs_per_s": create_rate, "query_s": statistics.median(query_times), "found": found}
    return out


def _p99(values: list[int]) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))])


# -- orchestration --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not answer")


class MemoryWatch:
    """Peak resident memory of a process and all its children, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.root = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self) -> int:
        import psutil

        total = 0
        try:
            for proc in [self.root, *self.root.children(recursive=True)]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            pass
        return total

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self._sample())

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())
        return self.peak / 2**20


def _start_server(tool: str, work: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(work / f"{tool}-server.log", "wb")  # noqa: SIM115 - closed with the process
    if tool == "keel":
        from keel.core.workspace import create_workspace
        from keel.store.migrate import upgrade_url

        home, _ = create_workspace(work)
        upgrade_url(f"sqlite:///{home / 'keel.db'}")
        cmd = [str(Path(sys.executable).parent / "keel"), "server", "--port", str(port), "--no-auth"]
        cmd += ["--log-level", "warning"]
        env = {**os.environ, "KEEL_HOME": str(home)}
        health = f"{url}/api/v1/health"
    else:
        cmd = [
            str(PEERS_PYTHON.parent / "mlflow"),
            "server",
            "--backend-store-uri",
            f"sqlite:///{work / 'mlflow.db'}",
        ]
        cmd += [
            "--default-artifact-root",
            str(work / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
        cmd += ["--workers", "1"]
        env = dict(os.environ)
        health = f"{url}/health"
    for key in ("KEEL_SERVER_URL", "KEEL_TOKEN", "KEEL_DB_URL", "KEEL_PROJECT"):
        env.pop(key, None)
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    _wait_http(health, proc)
    return proc, url


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run_once(tool: str, workload: str, c_runs: int) -> dict[str, Any]:
    """One workload for one tool in a fresh process on a fresh store."""
    work = Path(tempfile.mkdtemp(prefix=f"bench-{tool}-{workload}-"))
    python = sys.executable if tool == "keel" else str(PEERS_PYTHON)
    server = None
    url = None
    try:
        if workload == "d":
            server, url = _start_server(tool, work)
            watch = MemoryWatch(server.pid)
        cmd = [
            python,
            str(Path(__file__).resolve()),
            "--worker",
            tool,
            "--workload",
            workload,
            "--dir",
            str(work),
        ]
        cmd += ["--c-runs", str(c_runs)] + (["--url", url] if url else [])
        env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} worker ({workload}) failed:\n{done.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        if server is not None:
            result["server_peak_mb"] = watch.stop()
        return result
    finally:
        if server is not None:
            _stop(server)
        shutil.rmtree(work, ignore_errors=True)


def _versions() -> str:
    from keel.core.version import __version__

    mlflow = "absent"
    if PEERS_PYTHON.exists():
        mlflow = subprocess.run(
            [str(PEERS_PYTHON), "-c", "import mlflow; print(mlflow.__version__)"],
            capture_output=True,
            text=True,
        ).stdout.strip()
    return f"Keel {__version__}, MLflow {mlflow}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="repetitions per workload (median)")
    parser.add_argument("--workloads", default="abcd", help="which of a, b, c, d")
    parser.add_argument("--c-runs", type=int, default=5000, help="runs created in workload (c)")
    parser.add_argument("--s-runs", type=int, default=300, help="small 3-commit runs in workload (s)")
    parser.add_argument("--worker", choices=["keel", "mlflow"], help=argparse.SUPPRESS)
    parser.add_argument("--workload", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker = keel_worker if args.worker == "keel" else mlflow_worker
        print(json.dumps(worker(args.workload, Path(args.dir), args.url, args.c_runs)))
        return
    if set(args.workloads) - {"s"} and not PEERS_PYTHON.exists():
        sys.exit(f"no peers environment at {PEERS_PYTHON}; see this file's docstring")
    print(_versions())
    for workload in args.workloads:
        if workload == "s":
            durability(args)
            continue
        results: dict[str, list[dict[str, Any]]] = {"keel": [], "mlflow": []}
        for _ in range(args.runs):
            for tool in ("keel", "mlflow"):  # alternating
                results[tool].append(run_once(tool, workload, args.c_runs))
        report(workload, results, args)


def durability(args: argparse.Namespace) -> None:
    """(s): the same Keel work with db_synchronous normal and full, alternating, median of --runs."""
    results: dict[str, list[dict[str, Any]]] = {"normal": [], "full": []}
    for _ in range(args.runs):
        for mode in results:
            results[mode].append(run_once("keel", f"s-{mode}", args.s_runs))
    n, f = results["normal"], results["full"]
    assert {r["pragma"] for r in n} == {1} and {r["pragma"] for r in f} == {2}, "mode not in force"
    print(
        f"(s) SQLite durability, {args.s_runs} runs x 3 commits, then {RUNS_A}x{METRICS_A}x{STEPS_A} "
        f"points buffered, median of {args.runs}:"
    )
    for mode, items in results.items():
        print(
            f"    {mode:6} {_median(items, 'commits_per_s'):8,.0f} commits/s   "
            f"{_median(items, 'points_per_s'):10,.0f} points/s   (stored per key: {items[-1]['stored_last_key']})"
        )
    print(
        f"    normal/full  commits {_median(n, 'commits_per_s') / _median(f, 'commits_per_s'):.2f}x, "
        f"points {_median(n, 'points_per_s') / _median(f, 'points_per_s'):.2f}x"
    )
    sys.stdout.flush()


def _median(items: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(item[key] for item in items))


def report(workload: str, results: dict[str, list[dict[str, Any]]], args: argparse.Namespace) -> None:
    k, m = results["keel"], results["mlflow"]
    n = f"median of {args.runs}"
    if workload in ("a", "d"):
        kp, mp = _median(k, "points_per_s"), _median(m, "points_per_s")
        label = "(a) local SQLite ingest" if workload == "a" else "(d) ingest through the HTTP server"
        print(f"{label}, {RUNS_A}x{METRICS_A}x{STEPS_A} points, {n}:")
        print(f"    Keel   {kp:12,.0f} points/s   (stored per key: {k[-1]['stored_last_key']})")
        print(f"    MLflow {mp:12,.0f} points/s   (stored per key: {m[-1]['stored_last_key']})")
        print(f"    ratio  {kp / mp:.1f}x")
        if workload == "d":
            print(
                f"    server peak RSS (all processes): Keel {_median(k, 'server_peak_mb'):.0f} MB, "
                f"MLflow {_median(m, 'server_peak_mb'):.0f} MB"
            )
    elif workload == "b":
        kb, mb = _median(k, "median_us"), _median(m, "median_us")
        print(f"(b) {CALLS_B} single log_metric calls on the training thread, {n}:")
        print(
            f"    Keel   median {kb:10.2f} us/call, p99 {_median(k, 'p99_us'):.2f} us, stored {k[-1]['stored']}"
        )
        print(
            f"    MLflow median {mb:10.2f} us/call, p99 {_median(m, 'p99_us'):.2f} us, stored {m[-1]['stored']}"
        )
        print(f"    ratio  {mb / kb:.0f}x faster")
    else:
        kq, mq = _median(k, "query_s"), _median(m, "query_s")
        print(f"(c) {args.c_runs} runs x 5 params x 5 metrics, then a filtered ordered search, {n}:")
        print(
            f"    Keel   query {kq:.4f} s ({k[-1]['found']} runs), creating {_median(k, 'runs_per_s'):,.0f} runs/s"
        )
        print(
            f"    MLflow query {mq:.4f} s ({m[-1]['found']} runs), creating {_median(m, 'runs_per_s'):,.0f} runs/s"
        )
        print(
            f"    ratio  query {mq / kq:.1f}x faster, creation {_median(k, 'runs_per_s') / _median(m, 'runs_per_s'):.0f}x"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
