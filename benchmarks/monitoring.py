"""Drift detection: Keel beside Evidently (and plain scipy) on the same Parquet files, alternating runs.

Data: ``--rows`` rows x 20 columns (15 numeric, 5 categorical), the current
window with 5 columns shifted (3 numeric by 0.05-0.1 sd, 2 categorical by a
few points of share), written once to Parquet; every contender reads those
files. Each run is a fresh process (so no one profits from another's warm
caches), timed inside from reading the files to the verdicts, imports not
counted; peak RSS is the process's.

Contenders (all judging every column):

- ``keel``: reference statistics prepared once (timed apart: ``prep``), then
  the check (``check``) with KS + chi-square, corrected across columns;
- ``keel-default``: the check with Keel's default tests (KS, Wasserstein, PSI /
  chi-square, PSI, Jensen-Shannon) and the report's histograms;
- ``scipy``: the same exact tests in plain scipy (``ks_2samp`` asymptotic,
  ``chi2_contingency``) on columns read with pyarrow;
- ``evidently-ks``: Evidently's DataDriftPreset with KS + chi-square;
- ``evidently-default``: its default preset.

Evidently runs in ``benchmarks/.venv-peers`` (never a Keel dependency)::

    python3 -m venv benchmarks/.venv-peers
    benchmarks/.venv-peers/bin/pip install 'evidently==0.7.23' 'pandas<3'
    .venv/bin/python benchmarks/monitoring.py --rows 100000 --runs 3

Prints each contender's median seconds and peak memory, and the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
PEERS_PYTHON = ROOT / ".venv-peers" / "bin" / "python"
NUMERIC = [f"n{i}" for i in range(15)]
CATEGORICAL = [f"c{i}" for i in range(5)]
SHIFTED = {"n0": 0.1, "n1": 0.07, "n2": 0.05}


def make_data(rows: int, folder: Path, seed: int = 0) -> tuple[Path, Path]:
    """Reference and current Parquet files: 15 numeric and 5 categorical columns, 5 of them shifted."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefgh"))
    base = np.array([0.3, 0.2, 0.15, 0.1, 0.1, 0.07, 0.05, 0.03])

    def table(shifted: bool) -> pa.Table:
        columns: dict[str, Any] = {}
        for name in NUMERIC:
            shift = SHIFTED.get(name, 0.0) if shifted else 0.0
            columns[name] = rng.normal(shift, 1.0, rows)
        for i, name in enumerate(CATEGORICAL):
            p = base.copy()
            if shifted and i < 2:
                p[0], p[1] = p[0] - 0.02, p[1] + 0.02
            columns[name] = letters[rng.choice(len(letters), rows, p=p)]
        return pa.table(columns)

    reference, current = folder / "reference.parquet", folder / "current.parquet"
    pq.write_table(table(False), reference)
    pq.write_table(table(True), current)
    return reference, current


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def work_keel(reference: str, current: str, default: bool) -> dict[str, Any]:
    import pyarrow.parquet as pq
    import scipy.spatial.distance
    import scipy.stats

    from keel.stats.drift import detect, drift_test, registered
    from keel.stats.drift_reference import build_reference

    for name in registered():  # one-time per process (entry points read, tests imported), as in a server
        drift_test(name)
    assert scipy.stats and scipy.spatial.distance
    start, start_cpu = time.perf_counter(), time.process_time()
    refs = build_reference(pq.read_table(reference), NUMERIC + CATEGORICAL)
    prepared, prepared_cpu = time.perf_counter(), time.process_time()
    tests = None if default else {"numeric": ["ks"], "categorical": ["chi2"]}
    result = detect(refs, pq.read_table(current), tests=tests, histograms=default)
    return {
        "prep": prepared - start,
        "prep_cpu": prepared_cpu - start_cpu,
        "check": time.perf_counter() - prepared,
        "check_cpu": time.process_time() - prepared_cpu,
        "drifted": result.drifted,
        "peak_mb": _peak_mb(),
    }


def work_scipy(reference: str, current: str) -> dict[str, Any]:
    import numpy as np
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    from scipy.stats import chi2_contingency, ks_2samp

    start, start_cpu = time.perf_counter(), time.process_time()
    ref, cur = pq.read_table(reference), pq.read_table(current)
    drifted = []
    for name in NUMERIC:
        p = ks_2samp(ref.column(name).to_numpy(), cur.column(name).to_numpy(), method="asymp").pvalue
        if p < 0.05 / 20:
            drifted.append(name)
    for name in CATEGORICAL:
        a, b = pc.value_counts(ref.column(name)), pc.value_counts(cur.column(name))
        ca = dict(zip(a.field("values").to_pylist(), a.field("counts").to_pylist(), strict=True))
        cb = dict(zip(b.field("values").to_pylist(), b.field("counts").to_pylist(), strict=True))
        keys = sorted(set(ca) | set(cb))
        table = np.array([[ca.get(k, 0) for k in keys], [cb.get(k, 0) for k in keys]])
        if chi2_contingency(table, correction=False)[1] < 0.05 / 20:
            drifted.append(name)
    return {
        "check": time.perf_counter() - start,
        "check_cpu": time.process_time() - start_cpu,
        "drifted": drifted,
        "peak_mb": _peak_mb(),
    }


def work_evidently(reference: str, current: str, default: bool) -> dict[str, Any]:
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report  # type: ignore[import-not-found]
    from evidently.presets import DataDriftPreset  # type: ignore[import-not-found]

    start, start_cpu = time.perf_counter(), time.process_time()
    ref, cur = pd.read_parquet(reference), pd.read_parquet(current)
    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    preset = DataDriftPreset() if default else DataDriftPreset(num_method="ks", cat_method="chisquare")
    snapshot = Report([preset]).run(
        Dataset.from_pandas(cur, data_definition=definition),
        Dataset.from_pandas(ref, data_definition=definition),
    )
    body = snapshot.dict()
    drifted = []
    for metric in body.get("metrics", []):
        config = metric.get("config", {})
        if not str(config.get("type", "")).endswith("ValueDrift"):
            continue
        value, threshold = float(metric["value"]), float(config["threshold"])
        p_value = config.get("method") in ("ks", "chisquare", "z", "fisher_exact", "t_test")
        if (value < threshold) if p_value else (value >= threshold):
            drifted.append(config["column"])
    return {
        "check": time.perf_counter() - start,
        "check_cpu": time.process_time() - start_cpu,
        "drifted": sorted(drifted),
        "peak_mb": _peak_mb(),
    }


def worker(args: argparse.Namespace) -> None:
    if args.worker in ("keel", "keel-default"):
        out = work_keel(args.reference, args.current, args.worker == "keel-default")
    elif args.worker == "scipy":
        out = work_scipy(args.reference, args.current)
    else:
        out = work_evidently(args.reference, args.current, args.worker == "evidently-default")
    print(json.dumps(out))


def run_one(name: str, reference: Path, current: Path, timeout: float) -> dict[str, Any] | None:
    python = str(PEERS_PYTHON) if name.startswith("evidently") else sys.executable
    command = [python, __file__, "--worker", name, "--reference", str(reference), "--current", str(current)]
    env = {**os.environ, "PYTHONPATH": str(ROOT.parent / "src")} if not name.startswith("evidently") else None
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="Seconds before a contender's run is given up."
    )
    parser.add_argument(
        "--contenders",
        default="keel,keel-default,scipy,evidently-ks,evidently-default",
        help="Comma-separated.",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--reference", help=argparse.SUPPRESS)
    parser.add_argument("--current", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    contenders = [c for c in args.contenders.split(",") if c]
    if any(c.startswith("evidently") for c in contenders) and not PEERS_PYTHON.exists():
        print(f"no {PEERS_PYTHON}: Evidently left out (see this file's docstring)")
        contenders = [c for c in contenders if not c.startswith("evidently")]
    with tempfile.TemporaryDirectory(prefix="keel-bench-monitoring-") as tmp:
        reference, current = make_data(args.rows, Path(tmp))
        results: dict[str, list[dict[str, Any]]] = {c: [] for c in contenders}
        for _ in range(args.runs):
            for name in contenders:  # alternating: one run of each, then again
                got = run_one(name, reference, current, args.timeout)
                if got is not None:
                    results[name].append(got)
    print(
        f"rows={args.rows:,} columns=20 (15 numeric, 5 categorical; shifted: n0 n1 n2 c0 c1) runs={args.runs}"
    )
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for name, runs in results.items():
        if not runs:
            print(f"{name:18s} did not finish within {args.timeout:.0f} s")
            continue

        def med(key: str, runs: list[dict[str, Any]] = runs) -> float:
            return float(statistics.median(float(r.get(key, 0.0)) for r in runs))

        wall[name], cpu[name] = med("check") + med("prep"), med("check_cpu") + med("prep_cpu")
        prep = f" (prep {med('prep'):.2f} s / {med('prep_cpu'):.2f} s CPU apart)" if "prep" in runs[0] else ""
        print(
            f"{name:18s} wall {wall[name]:8.2f} s  CPU {cpu[name]:8.2f} s{prep}  peak {med('peak_mb'):6.0f} MB"
            f"  drifted {runs[0]['drifted']}  ({len(runs)} runs)"
        )
    if "keel" in wall:
        keel = results["keel"]
        check_wall = statistics.median(r["check"] for r in keel)
        check_cpu = statistics.median(r["check_cpu"] for r in keel)
        for peer in ("keel-default", "scipy", "evidently-ks", "evidently-default"):
            if peer in wall:
                print(
                    f"{peer} / keel: end to end {wall[peer] / wall['keel']:.1f}x wall, {cpu[peer] / cpu['keel']:.1f}x CPU;"
                    f" against keel's check alone {wall[peer] / check_wall:.1f}x wall, {cpu[peer] / check_cpu:.1f}x CPU"
                )


if __name__ == "__main__":
    main()
