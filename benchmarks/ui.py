"""Web UI: Keel's beside MLflow's, in Chromium through Playwright, on the same data (issue 17).

Data (each tool logs it through its own client into its own SQLite store):
--runs runs (issue: 10,000) x --metrics final metrics (issue: 20) in one project/experiment,
plus one run with a --points-point metric (issue: 1,000,000).

Timed in the system's chromium (headless, one fresh page per measure), each tool's server on
127.0.0.1 (``keel server --no-auth``; ``mlflow server --workers 1``), alternating, median of --repeat:

- table: navigation until the runs table shows its first rows;
- filter: a filter over all runs (``metrics.m0 > 0.5``) typed and applied, until the table redraws;
- chart: navigation to the long run's page until its metric is drawn (Keel: the chart's figure
  marks itself drawn; MLflow: the Plotly trace appears on the run's "Model metrics" tab).

MLflow's UI is a React app whose markup changes between releases; its selectors are the ones
MLflow 3.x renders, and a measure whose selector is not found within the timeout prints ``n/a``
with the reason instead of a number.

    .venv/bin/python benchmarks/ui.py --runs 10000 --metrics 20 --points 1000000
    .venv/bin/python benchmarks/ui.py --runs 200 --metrics 5 --points 20000 --tools keel   # smoke

MLflow comes from benchmarks/.venv-peers (``pip install mlflow``), never a Keel dependency.
This file is also the MLflow loader (``--load-mlflow DIR``), run by the peers' Python.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEERS_PYTHON = HERE / ".venv-peers" / "bin" / "python"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FILTER = "metrics.m0 > 0.5"


def value(run: int, metric: int) -> float:
    """The final value of metric ``metric`` of run ``run``: the same numbers for both tools."""
    return ((run * 7919 + metric * 104729) % 1000) / 1000.0


def long_values(points: int) -> list[float]:
    return [math.sin(i / 5000.0) + (i % 97) / 970.0 for i in range(points)]


# -- loading ---------------------------------------------------------------------------------------


def load_keel(work: Path, runs: int, metrics: int, points: int) -> dict[str, Any]:
    from keel.client import connect
    from keel.testing.fixtures import new_workspace

    settings = new_workspace(work / "keel")
    client = connect(settings=settings)
    client.projects.create(name="bench")
    started = time.perf_counter()
    for r in range(runs):
        run = client.runs.create(project="bench", name=f"run-{r:05d}", params={"depth": r % 10})
        client.runs.log_batch(
            run_id=run.id, metrics=[(f"m{m}", value(r, m), 0, 1_000) for m in range(metrics)]
        )
        client.runs.end(run_id=run.id, status="FINISHED")
    big = client.runs.create(project="bench", name="long")
    series = long_values(points)
    for start in range(0, points, 100_000):
        chunk = series[start : start + 100_000]
        client.runs.log_batch(
            run_id=big.id, metrics=[("long", v, start + i, start + i) for i, v in enumerate(chunk)]
        )
    client.runs.end(run_id=big.id, status="FINISHED")
    return {"home": str(settings.home), "big": big.id, "load_s": time.perf_counter() - started}


def load_mlflow(work: Path, runs: int, metrics: int, points: int) -> dict[str, Any]:
    """Run by the peers' Python: the same data through MLflow's client into SQLite."""
    import mlflow  # type: ignore[import-not-found]
    from mlflow.entities import Metric, Param  # type: ignore[import-not-found]
    from mlflow.tracking import MlflowClient  # type: ignore[import-not-found]

    (work / "mlflow").mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{work / 'mlflow' / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    experiment = client.create_experiment("bench", artifact_location=str(work / "mlflow" / "artifacts"))
    started = time.perf_counter()
    now = int(time.time() * 1000)
    for r in range(runs):
        run = client.create_run(experiment, run_name=f"run-{r:05d}")
        client.log_batch(
            run.info.run_id,
            metrics=[Metric(f"m{m}", value(r, m), now, 0) for m in range(metrics)],
            params=[Param("depth", str(r % 10))],
        )
        client.set_terminated(run.info.run_id)
    big = client.create_run(experiment, run_name="long")
    series = long_values(points)
    for start in range(0, points, 1000):  # MLflow's log_batch takes at most 1,000 metrics
        client.log_batch(
            big.info.run_id,
            metrics=[
                Metric("long", v, now + start + i, start + i)
                for i, v in enumerate(series[start : start + 1000])
            ],
        )
    client.set_terminated(big.info.run_id)
    return {
        "uri": uri,
        "experiment": experiment,
        "big": big.info.run_id,
        "load_s": time.perf_counter() - started,
    }


# -- servers ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(tool: str, data: dict[str, Any], work: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    if tool == "keel":
        env["KEEL_HOME"] = data["home"]
        cmd = [sys.executable, "-m", "keel.cli.main", "server", "--no-auth", "--port", str(port)]
        ready = f"http://127.0.0.1:{port}/api/v1/health"
    else:
        mlflow = str(PEERS_PYTHON.parent / "mlflow")
        cmd = [mlflow, "server", "--backend-store-uri", data["uri"], "--host", "127.0.0.1"]
        cmd += ["--port", str(port), "--workers", "1"]
        ready = f"http://127.0.0.1:{port}/health"
    log = open(work / f"{tool}-server.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    import urllib.request

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{tool} server exited; see {work / f'{tool}-server.log'}")
        try:
            with urllib.request.urlopen(ready, timeout=2):
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.3)
    stop(proc)
    raise RuntimeError(f"{tool} server did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# -- measures --------------------------------------------------------------------------------------


def keel_measures(page: Any, url: str, data: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    t = time.perf_counter()
    page.goto(f"{url}/ui/p/bench/runs")
    page.wait_for_selector("table.runs tbody tr")
    out["table"] = time.perf_counter() - t
    page.evaluate("document.querySelector('table.runs').dataset.old = '1'")
    t = time.perf_counter()
    page.fill("#filter-text", FILTER)
    page.click("#filter button[type=submit]")
    page.wait_for_selector("table.runs:not([data-old]) tbody tr")
    out["filter"] = time.perf_counter() - t
    t = time.perf_counter()
    page.goto(f"{url}/ui/runs/{data['big']}")
    page.wait_for_selector('figure[data-key="long"][data-drawn="true"]')
    out["chart"] = time.perf_counter() - t
    return out


def mlflow_measures(page: Any, url: str, data: dict[str, Any]) -> dict[str, float | str]:
    out: dict[str, float | str] = {}
    experiment, big = data["experiment"], data["big"]
    try:
        t = time.perf_counter()
        page.goto(f"{url}/#/experiments/{experiment}/runs")
        page.wait_for_selector("text=run-0", timeout=180_000)
        out["table"] = time.perf_counter() - t
    except Exception as exc:
        out["table"] = f"n/a ({type(exc).__name__})"
    try:
        count = "(() => { const m = document.body.innerText.match(/([\\d,]+)\\s+matching runs/); return m && m[1]; })()"
        page.wait_for_function(count, timeout=60_000)
        before = page.evaluate(count)
        search = page.locator("input[placeholder*='metrics']").first
        search.fill(FILTER)
        t = time.perf_counter()
        search.press("Enter")
        page.wait_for_function(
            f"(before) => {{ const now = {count}; return now && now !== before; }}",
            arg=before,
            timeout=180_000,
        )
        page.wait_for_selector("text=run-0", timeout=180_000)
        out["filter"] = time.perf_counter() - t
    except Exception as exc:
        out["filter"] = f"n/a ({type(exc).__name__})"
    try:
        t = time.perf_counter()
        page.goto(f"{url}/#/experiments/{experiment}/runs/{big}/model-metrics")
        page.wait_for_selector(".js-plotly-plot .scatterlayer .trace path", timeout=180_000)
        out["chart"] = time.perf_counter() - t
    except Exception as exc:
        out["chart"] = f"n/a ({type(exc).__name__})"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--metrics", type=int, default=20)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tools", default="keel,mlflow")
    parser.add_argument("--load-mlflow", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load_mlflow:
        print(json.dumps(load_mlflow(Path(args.load_mlflow), args.runs, args.metrics, args.points)))
        return
    tools = [t for t in args.tools.split(",") if t]
    if "mlflow" in tools and not PEERS_PYTHON.exists():
        sys.exit(f"no peers environment at {PEERS_PYTHON}: python3 -m venv ... && pip install mlflow")
    if not Path(CHROMIUM).exists():
        sys.exit("no chromium: apt-get install -y --no-install-recommends chromium")
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="keel-ui-bench-"))
    data: dict[str, dict[str, Any]] = {}
    if "keel" in tools:
        data["keel"] = load_keel(work, args.runs, args.metrics, args.points)
        print(f"keel: loaded in {data['keel']['load_s']:.1f} s", flush=True)
    if "mlflow" in tools:
        cmd = [str(PEERS_PYTHON), __file__, "--load-mlflow", str(work)]
        cmd += ["--runs", str(args.runs), "--metrics", str(args.metrics), "--points", str(args.points)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        data["mlflow"] = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"mlflow: loaded in {data['mlflow']['load_s']:.1f} s", flush=True)
    servers = {tool: start(tool, data[tool], work) for tool in tools}
    results: dict[str, list[dict[str, Any]]] = {tool: [] for tool in tools}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for _ in range(args.repeat):
                for tool in tools:  # alternating
                    context = browser.new_context(viewport={"width": 1400, "height": 900})
                    page = context.new_page()
                    page.set_default_timeout(120_000)
                    if tool == "keel":
                        results[tool].append(keel_measures(page, servers[tool][1], data[tool]))
                    else:
                        results[tool].append(mlflow_measures(page, servers[tool][1], data[tool]))
                    context.close()
            browser.close()
    finally:
        for proc, _ in servers.values():
            stop(proc)
    print(
        f"\n{args.runs:,} runs x {args.metrics} metrics, one {args.points:,}-point metric; median of {args.repeat}"
    )
    for measure in ("table", "filter", "chart"):
        row: dict[str, float | None] = {}
        for tool in tools:
            numbers = [r[measure] for r in results[tool] if isinstance(r[measure], float)]
            row[tool] = statistics.median(numbers) if numbers else None
            if not numbers:
                print(f"  {tool} {measure}: {results[tool][0][measure]}")
        parts = [f"{t} {row[t] or 0:.2f} s" for t in tools if row[t] is not None]
        ratio = ""
        keel_s, mlflow_s = row.get("keel"), row.get("mlflow")
        if keel_s and mlflow_s:
            ratio = f"  (Keel / MLflow = {keel_s / mlflow_s:.2f})"
        print(f"{measure:7s} " + ", ".join(parts) + ratio)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
