"""Model serving: ``keel serve`` beside ``mlflow models serve`` on the same fitted model (issue 13).

The model is a scikit-learn logistic regression on iris (4 float columns),
fitted once here and handed to both tools. Both servers answer the very same
one-row request, MLflow's ``/invocations`` with ``dataframe_split`` (Keel
speaks it too); Keel's OIP ``/v2/models/iris/infer`` is measured beside it.
A closed-loop aiohttp load generator (in the peers' environment, on the same
cores) keeps ``--concurrency`` requests in flight for ``--duration`` seconds;
each configuration is run ``--runs`` times, tools alternating, and the median
run (by requests/s) is printed with p50/p99 latency, the server processes'
CPU seconds per 1,000 requests and their memory (PSS, all processes).
The generator's own ceiling against a trivial endpoint (``/ping``) is printed
first, so the reader sees how much of the machine the client takes.

    benchmarks/.venv-peers/bin/pip install mlflow scikit-learn aiohttp   # once; never a Keel dependency
    .venv/bin/python benchmarks/serving.py                       # 10 s per run, 3 runs
    .venv/bin/python benchmarks/serving.py --duration 1 --runs 1 --concurrency 4   # smoke

This file is also the load generator (``--load URL ...``, run by the peers'
Python); only the standard library is imported at the top.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "benchmarks" / ".venv-peers" / "bin" / "python"
KEEL = ROOT / ".venv" / "bin" / "python"
COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
BODY = {"dataframe_split": {"columns": COLUMNS, "data": [[5.1, 3.5, 1.4, 0.2]]}}
OIP = {
    "inputs": [
        {"name": c, "shape": [1], "datatype": "FP64", "data": [v]}
        for c, v in zip(COLUMNS, [5.1, 3.5, 1.4, 0.2], strict=True)
    ]
}


def load(url: str, body: str, token: str, concurrency: int, duration: float) -> dict[str, Any]:
    """Closed loop: ``concurrency`` workers each send, await, repeat; latencies of the answered ones."""
    import asyncio

    import aiohttp

    async def main() -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        latencies: list[float] = []
        errors = 0
        stop = time.perf_counter() + duration
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def worker() -> None:
                nonlocal errors
                while time.perf_counter() < stop:
                    t0 = time.perf_counter()
                    method = session.get(url) if not body else session.post(url, data=body, headers=headers)
                    async with method as answer:
                        await answer.read()
                        if answer.status != 200:
                            errors += 1
                            continue
                    latencies.append(time.perf_counter() - t0)

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.perf_counter() - started
        latencies.sort()
        n = len(latencies)
        return {
            "rps": n / elapsed,
            "p50_ms": 1000 * latencies[n // 2] if n else float("nan"),
            "p99_ms": 1000 * latencies[min(n - 1, int(n * 0.99))] if n else float("nan"),
            "requests": n,
            "errors": errors,
        }

    return asyncio.run(main())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait(url: str, timeout: float = 120) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def tree_usage(pid: int) -> tuple[float, int]:
    """CPU seconds and PSS bytes of ``pid`` and its children."""
    import psutil

    root = psutil.Process(pid)
    cpu, pss = 0.0, 0
    for proc in [root, *root.children(recursive=True)]:
        try:
            times = proc.cpu_times()
            cpu += times.user + times.system
            pss += proc.memory_full_info().pss
        except psutil.Error:
            continue
    return cpu, pss


def setup(work: Path) -> dict[str, Any]:
    """The fitted model registered in a fresh Keel workspace, deployed, with a predict token; and as MLflow's."""
    import pickle

    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    import keel.models
    from keel.client import connect
    from keel.sdk import register_model
    from keel.testing.fixtures import new_workspace

    X, y = load_iris(return_X_y=True, as_frame=True)
    X.columns = COLUMNS
    model = LogisticRegression(max_iter=500).fit(X, y)
    settings = new_workspace(work / "ws")
    client = connect(settings=settings)
    client.users.add(name="admin", admin=True)
    client.projects.create(name="bench")
    keel.models.save(model, work / "pkg", input_example=X.head(3))
    version = register_model(work / "pkg", "iris", project="bench", client=client)
    register_model(work / "pkg", "iris", project="bench", client=client)  # v2: what the hot swap moves to
    client.models.set_alias(project="bench", name="iris", alias="live", version=version.number)
    client.deployments.create(project="bench", name="iris-prod", model="iris@live")
    client.users.add(name="svc")
    token = client.tokens.create(user="svc", scope="predict", deployment="iris-prod").secret
    # the example crosses as plain lists: the two environments' pandas may differ in version
    (work / "model.pkl").write_bytes(pickle.dumps((model, X.head(3).to_dict("list"))))
    code = (
        "import pickle, pandas, mlflow.sklearn; m, x = pickle.load(open({!r}, 'rb')); "
        "mlflow.sklearn.save_model(m, {!r}, input_example=pandas.DataFrame(x), "
        "serialization_format='cloudpickle')"
    ).format(str(work / "model.pkl"), str(work / "mlflow-model"))
    subprocess.run([str(PEERS), "-c", code], check=True, capture_output=True)
    return {"home": str(settings.home), "token": str(token), "mlflow_model": str(work / "mlflow-model")}


#: Keel's configurations beside MLflow's: the default (prediction log on), the log off, micro-batching on.
KEEL_ARGS: dict[str, list[str]] = {
    "keel": [],
    "keel-oip": [],
    "keel-nolog": ["--no-log"],
    "keel-batch": ["--batch-max", "32", "--batch-wait-ms", "1"],
}


def start(
    tool: str, ctx: dict[str, Any], workers: int, extra: list[str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    if tool == "keel":
        env = {**os.environ, "KEEL_HOME": ctx["home"]}
        cmd = [
            str(KEEL),
            "-m",
            "keel.cli.main",
            "serve",
            "iris-prod",
            "--port",
            str(port),
            "--workers",
            str(workers),
            *(extra or []),
        ]
    else:
        env = {**os.environ, "PATH": f"{PEERS.parent}:{os.environ.get('PATH', '')}"}
        cmd = [
            str(PEERS.parent / "mlflow"),
            "models",
            "serve",
            "-m",
            ctx["mlflow_model"],
            "--env-manager",
            "local",
            "-p",
            str(port),
            "-h",
            "127.0.0.1",
            "--workers",
            str(workers),
        ]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    wait(url + "/ping")
    return proc, url


def stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def drive(url: str, body: Any, token: str, concurrency: int, duration: float) -> dict[str, Any]:
    out = subprocess.run(
        [
            str(PEERS),
            __file__,
            "--load",
            url,
            json.dumps(body) if body else "",
            token,
            str(concurrency),
            str(duration),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(out))


def measure(
    name: str, ctx: dict[str, Any], workers: int, concurrency: int, duration: float, path: str, body: Any
) -> dict[str, Any]:
    tool = "mlflow" if name == "mlflow" else "keel"
    proc, url = start(tool, ctx, workers, KEEL_ARGS.get(name))
    try:
        drive(url + path, body, ctx["token"], concurrency, min(duration, 1.0))  # warm-up, not counted
        cpu0, _ = tree_usage(proc.pid)
        result = drive(url + path, body, ctx["token"], concurrency, duration)
        cpu1, pss = tree_usage(proc.pid)
        result["cpu_ms_per_req"] = 1000 * (cpu1 - cpu0) / max(result["requests"], 1)
        result["pss_mb"] = pss / 1e6
        if name == "keel":
            big = {"dataframe_split": {"columns": COLUMNS, "data": [[5.1, 3.5, 1.4, 0.2]] * 1000}}
            t0 = time.perf_counter()
            import urllib.request

            req = urllib.request.Request(
                url + "/invocations",
                data=json.dumps(big).encode(),
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {ctx['token']}"},
            )
            with urllib.request.urlopen(req) as answer:
                answer.read()
            result["rows1000_ms"] = 1000 * (time.perf_counter() - t0)
        return result
    finally:
        stop(proc)


def hot_swap(ctx: dict[str, Any], concurrency: int, duration: float) -> dict[str, Any]:
    """Move the alias under load: failed requests, and seconds from the move until v2 answers."""
    import urllib.request

    from keel.client import connect
    from keel.core.settings import load_settings

    client = connect(settings=load_settings({"home": ctx["home"]}, env={}))
    client.models.set_alias(project="bench", name="iris", alias="live", version=1)
    proc, url = start("keel", ctx, 1, ["--poll-s", "0.5"])
    try:
        load = subprocess.Popen(
            [str(PEERS), __file__, "--load", url + "/invocations", json.dumps(BODY), ctx["token"],
             str(concurrency), str(duration)],
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        time.sleep(duration / 3)
        moved = time.perf_counter()
        client.models.set_alias(project="bench", name="iris", alias="live", version=2)
        swapped = float("nan")
        while time.perf_counter() - moved < duration:
            req = urllib.request.Request(
                url + "/v2/models/iris/infer",
                data=json.dumps(OIP).encode(),
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {ctx['token']}"},
            )
            with urllib.request.urlopen(req) as answer:
                if json.loads(answer.read())["model_version"] == "2":
                    swapped = time.perf_counter() - moved
                    break
            time.sleep(0.02)
        out, _ = load.communicate()
        result = dict(json.loads(out))
        result["swap_s"] = swapped
        return result
    finally:
        stop(proc)
        client.models.set_alias(project="bench", name="iris", alias="live", version=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--keel", nargs="+", default=["keel", "keel-oip", "keel-nolog"], choices=sorted(KEEL_ARGS),
        help="Keel configurations beside MLflow (keel-batch: micro-batching on)",
    )  # fmt: skip
    parser.add_argument("--swap-only", action="store_true", help="Only the hot swap under load.")
    args = parser.parse_args()
    import platform

    with tempfile.TemporaryDirectory() as tmp:
        ctx = setup(Path(tmp))
        proc, url = start("keel", ctx, 1)
        try:
            ceiling = drive(url + "/ping", None, "", max(args.concurrency), args.duration)
        finally:
            stop(proc)
        print(
            f"# {time.strftime('%Y-%m-%d')}, {platform.python_version()}, {os.cpu_count()} CPUs; load generator ceiling (GET /ping on keel serve): {ceiling['rps']:.0f} req/s"
        )
        if not args.swap_only:
            compare(ctx, args)
        swap = hot_swap(ctx, max(args.concurrency), max(args.duration, 6.0))
        print(
            f"# hot swap under concurrency {max(args.concurrency)} (alias moved mid-run): "
            f"{swap['requests']} requests, {swap['errors']} failed, "
            f"new version answering {swap['swap_s']:.2f} s after the move (poll interval 0.5 s)",
            flush=True,
        )


def compare(ctx: dict[str, Any], args: argparse.Namespace) -> None:
    """The table: every Keel configuration and MLflow, per workers and concurrency, medians of runs."""
    print("| workers | conc | server | path | req/s | p50 ms | p99 ms | CPU ms/req | PSS MB | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for workers in args.workers:
        for concurrency in args.concurrency:
            names = [*args.keel, "mlflow"]
            rows: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
            for _ in range(args.runs):
                for name in names:  # alternating, so load drifts hit every tool alike
                    path = "/v2/models/iris/infer" if name == "keel-oip" else "/invocations"
                    body = OIP if name == "keel-oip" else BODY
                    rows[name].append(measure(name, ctx, workers, concurrency, args.duration, path, body))
            medians = {k: sorted(v, key=lambda r: r["rps"])[len(v) // 2] for k, v in rows.items()}
            for name, r in medians.items():
                path = "/v2/.../infer" if name == "keel-oip" else "/invocations"
                print(
                    f"| {workers} | {concurrency} | {name} | {path} | {r['rps']:.0f} | {r['p50_ms']:.1f} | "
                    f"{r['p99_ms']:.1f} | {r['cpu_ms_per_req']:.2f} | {r['pss_mb']:.0f} | {r['errors']} |"
                )
            m = medians["mlflow"]
            for name in args.keel:
                k = medians[name]
                print(
                    f"|   | {concurrency} | {name}/mlflow | | x{k['rps'] / m['rps']:.2f} | | "
                    f"x{k['p99_ms'] / m['p99_ms']:.2f} | x{m['cpu_ms_per_req'] / max(k['cpu_ms_per_req'], 1e-9):.2f} "
                    f"fewer | x{k['pss_mb'] / m['pss_mb']:.2f} | |"
                )
            if "keel" in medians and "keel-nolog" in medians:
                on, off = medians["keel"]["rps"], medians["keel-nolog"]["rps"]
                print(f"# prediction log cost at {workers} worker(s), {concurrency}: {on:.0f} vs {off:.0f} req/s "
                      f"off (the log costs {100 * (1 - on / off):.1f} %)")  # fmt: skip
            if "keel" in medians:
                print(f"# keel 1,000-row /invocations request: {medians['keel'].get('rows1000_ms', float('nan')):.1f} ms",
                      flush=True)  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--load":
        url, body, token, concurrency, duration = sys.argv[2:7]
        print(json.dumps(load(url, body, token, int(concurrency), float(duration))))
    else:
        main()
