"""The quickstart's serving stages: the promoted model served with a predict token, then hot-swapped.

:func:`serving_stage` deploys the registered model (``churn-prod``, following
``churn@production`` when the gate promoted it, else the version itself),
starts ``keel serve`` on a loopback port, sends one-row Open Inference
Protocol requests for customers the model has not seen, prints their
latency, and once the server's prediction log holds them, sends the labels
that "arrived later" and prints the live accuracy from the log.
:func:`hot_swap_stage` registers a new version, moves what the deployment
follows while traffic flows, and prints how long until the new version
answered and how many requests failed (zero is the point). Each stage starts
its own server and stops it by process id before returning.

``qs`` is the quickstart's shared state, typed ``Any``: the quickstart sits
above this package.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx

PROJECT = "churn"
DEPLOYMENT = "churn-prod"
NUMERIC = ["age", "tenure_months", "monthly_charges", "total_charges", "support_calls"]
CATEGORICAL = ["region", "plan", "contract", "payment_method"]
REQUESTS = 40


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _server(home: Path) -> Iterator[str]:
    """``keel serve churn-prod`` on 127.0.0.1 until the block ends; stopped by its process id."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("KEEL_SERVER_URL", "KEEL_TOKEN", "KEEL_DB_URL")}
    env["KEEL_HOME"] = str(home)
    log = (home / "serve-quickstart.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "keel.cli.main", "serve", DEPLOYMENT, "--port", str(port), "--poll-s", "0.3"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"keel serve exited; see {home / 'serve-quickstart.log'}")
            try:
                if httpx.get(f"{url}/v2/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"keel serve did not become ready; see {home / 'serve-quickstart.log'}")
            time.sleep(0.1)
        yield url
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


def _features(qs: Any) -> tuple[Any, list[int]]:
    """The last customers of the table as the model's one-row inputs, and whether each churned."""
    import pandas as pd
    import pyarrow.parquet as pq

    _, example = next(iter(qs.fitted.values()))
    frame = pq.read_table(qs.table_path).to_pandas().tail(REQUESTS)
    features = pd.get_dummies(frame[NUMERIC + CATEGORICAL], columns=CATEGORICAL, dtype=float)
    features = features.reindex(columns=list(example.columns), fill_value=0.0).fillna(0.0)
    return features, [int(v) for v in frame["churned"]]


def _body(features: Any, i: int, request_id: str) -> dict[str, Any]:
    from keel.serving.tensors import datatype_of

    inputs = [  # column by column: a row of a mixed frame would turn its integers into floats
        {
            "name": str(c),
            "shape": [1],
            "datatype": datatype_of(features[c].dtype),
            "data": [features[c].iloc[i].item()],
        }
        for c in features.columns
    ]
    return {"id": request_id, "inputs": inputs}


def _token(client: Any) -> str:
    from keel.core.errors import AlreadyExists

    with suppress(AlreadyExists):  # a second quickstart in the same folder
        client.users.add(name="svc-churn")
    return str(client.tokens.create(user="svc-churn", scope="predict", deployment=DEPLOYMENT).secret)


def _deploy(qs: Any) -> str:
    """Create (or point) churn-prod at production when the gate promoted the model, else at its version."""
    from keel.core.errors import AlreadyExists, NotFound

    client = qs.client
    try:
        client.models.get(project=PROJECT, ref="churn@production")
        follows = "churn@production"
    except NotFound:
        follows = f"churn@{qs.model_version.number}"
    try:
        client.deployments.create(
            project=PROJECT, name=DEPLOYMENT, model=follows, settings={"log_flush_s": 0.5}
        )
    except AlreadyExists:
        client.deployments.edit(project=PROJECT, name=DEPLOYMENT, model=follows)
    return follows


def serving_stage(qs: Any) -> None:
    """Serve the registered model with a predict token, send traffic, then the labels that came back."""
    if qs.model_version is None:
        return
    client = qs.client
    follows = _deploy(qs)
    token = _token(client)
    headers = {"Authorization": f"Bearer {token}"}
    features, churned = _features(qs)
    home = Path(client.settings.home)
    latencies, answers, ids = [], [], []
    run = f"qs{time.time_ns() % 10**9}"
    with _server(home) as url, httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        for i in range(len(features)):
            started = time.perf_counter()
            answer = http.post("/v2/models/churn/infer", json=_body(features, i, f"{run}-{i}"))
            latencies.append((time.perf_counter() - started) * 1000)
            answer.raise_for_status()
            answers.append(answer.json()["outputs"][0]["data"][0])
            ids.append(answer.json()["id"])
        refused = http.post(
            "/v2/models/churn/infer", json=_body(features, 0, "x"), headers={"Authorization": ""}
        )
    latencies.sort()
    qs.step(
        f"Served {follows} as deployment '{DEPLOYMENT}' (keel serve, loopback) with a predict token: "
        f"{len(ids)} one-row requests, p50 {latencies[len(latencies) // 2]:.1f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99) - 1]:.1f} ms; no token: {refused.status_code}"
    )
    from keel.predictions.schemas import Label

    labels = [Label(request_id=i, value=v) for i, v in zip(ids, churned, strict=True)]
    client.predictions.label(project=PROJECT, deployment=DEPLOYMENT, labels=labels)
    logged = client.predictions.ls(project=PROJECT, deployment=DEPLOYMENT, labeled_only=True, limit=10_000)
    mine = [p for p in logged if p.request_id.startswith(run)]
    right = sum(int(p.output) == int(p.label) for p in mine)
    qs.more(
        f"Logged {len(mine)} predictions (inputs, outputs, version, latency); {len(labels)} labels arrived "
        f"later by request id: live accuracy {right / max(len(mine), 1):.0%}"
    )
    qs.more(f"Try it: keel serve {DEPLOYMENT} & keel predictions ls {DEPLOYMENT} --labeled")


def hot_swap_stage(qs: Any) -> None:
    """Register a new version and move what churn-prod follows while traffic flows: zero failed requests."""
    if qs.model_version is None:
        return
    from keel.core.errors import CheckFailed

    client, current = qs.client, qs.model_version
    deployment = client.deployments.get(project=PROJECT, name=DEPLOYMENT)
    features, _ = _features(qs)
    headers = {"Authorization": f"Bearer {_token(client)}"}
    seen: list[tuple[float, str]] = []
    failed = [0]
    stop = threading.Event()

    def traffic(url: str) -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
            i = 0
            while not stop.is_set():
                try:
                    answer = http.post(
                        "/v2/models/churn/infer", json=_body(features, i % len(features), "swap")
                    )
                    if answer.status_code == 200:
                        seen.append((time.monotonic(), answer.json()["model_version"]))
                    else:
                        failed[0] += 1
                except httpx.TransportError:
                    failed[0] += 1
                i += 1

    with _server(Path(client.settings.home)) as url:
        sender = threading.Thread(target=traffic, args=(url,), name="keel-quickstart-traffic")
        sender.start()
        try:
            new = client.models.register(
                project=PROJECT,
                name="churn",
                package=current.package_digest,
                run_id=current.run_id,
                description="the quickstart's retrained model (same recipe)",
            )
            moved = time.monotonic()
            how = f"deployment edited to churn@{new.number}"
            if deployment.target == "production":
                try:
                    for alias in ("candidate", "production"):
                        client.models.promote(project=PROJECT, ref=f"churn@{new.number}", to=alias)
                    how = f"churn@{new.number} promoted to production"
                except CheckFailed:
                    client.deployments.edit(project=PROJECT, name=DEPLOYMENT, model=f"churn@{new.number}")
            else:
                client.deployments.edit(project=PROJECT, name=DEPLOYMENT, model=f"churn@{new.number}")
            deadline = time.monotonic() + 30
            while not any(v == str(new.number) for _, v in seen) and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            stop.set()
            sender.join()
    swapped = [t for t, v in seen if v == str(new.number)]
    after = f"{(swapped[0] - moved) * 1000:.0f} ms" if swapped else "not within 30 s"
    qs.step(
        f"Hot swap under traffic: {how}; the server answered with it after {after}, "
        f"{len(seen)} requests answered, {failed[0]} failed"
    )
