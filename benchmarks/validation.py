"""Data validation: Keel beside pandera (on pandas and on polars) doing the same named checks (issue 14).

A ROWS x 50 Parquet table (30 float, 10 integer, 10 categorical text columns,
one unique id among the integers) is checked against a suite inferred from a
reference table of the same shape. Both tools run the same named checks:
schema (column types), nulls, ranges, categorical domains and uniqueness
(Keel's distribution tests, formats and anomalies are switched off, since
pandera has no counterpart). Each measurement is a child process that reads
the Parquet file and validates it; the figure is the child's wall time and
its peak memory (ru_maxrss). Tools alternate; medians of --runs runs.
pandera comes from benchmarks/.venv-peers (never a Keel dependency).

    python benchmarks/validation.py --rows 1000000 --runs 3

``--fairness``: per-group metrics and disparities of 100,000 labelled
predictions across a three-valued sensitive column with 1,000 bootstrap
resamples -- Keel's ``keel.validation.fairness`` beside Fairlearn's
``MetricFrame(n_boot=1000)`` (from the peers venv); point estimates are
printed side by side and must be equal.

    python benchmarks/validation.py --fairness --rows 100000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PEER = str(HERE / ".venv-peers" / "bin" / "python")


def make_table(rows: int, seed: int) -> Any:
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    cols: dict[str, Any] = {"id": pa.array(np.arange(seed * rows, (seed + 1) * rows, dtype=np.int64))}
    for i in range(30):
        cols[f"f{i}"] = pa.array(rng.normal(i, 1 + i % 4, rows))
    for i in range(9):
        cols[f"i{i}"] = pa.array(rng.integers(0, 1000 * (i + 1), rows))
    for i in range(10):
        cols[f"c{i}"] = pa.array(rng.choice(["north", "south", "east", "west", "centre"], rows))
    return pa.table(cols)


def keel_child(data: str, suite_path: str) -> float:
    import pyarrow.parquet as pq

    from keel.validation.check import run_suite
    from keel.validation.suite import load_suite

    suite = load_suite(suite_path)
    start = time.perf_counter()
    results, _ = run_suite(pq.read_table(data), suite, None)
    took = time.perf_counter() - start
    assert all(r.verdict != "fail" for r in results), [r for r in results if r.verdict == "fail"][:3]
    return took


def _pandera_columns(rules: dict[str, Any], pa_mod: Any, dtypes: dict[str, Any]) -> dict[str, Any]:
    columns = {}
    for name, rule in rules["columns"].items():
        checks = []
        if rule.get("min") is not None:
            span = (rule["max"] - rule["min"]) * (rule.get("tolerance") or 0.0)
            checks.append(pa_mod.Check.in_range(rule["min"] - span, rule["max"] + span))
        if rule.get("domain") is not None:
            checks.append(pa_mod.Check.isin(rule["domain"]))
        columns[name] = pa_mod.Column(
            dtypes[rule["kind"]], checks=checks, nullable=rule["nullable"], unique=rule.get("unique", False)
        )
    return columns


def pandera_child(data: str, suite_path: str, engine: str) -> float:
    import yaml

    rules = yaml.safe_load(Path(suite_path).read_text())
    start = time.perf_counter()
    if engine == "pandas":
        import pandas as pd
        import pandera.pandas as pa_mod

        schema = pa_mod.DataFrameSchema(
            _pandera_columns(rules, pa_mod, {"float": float, "integer": "int64", "string": str})
        )
        schema.validate(pd.read_parquet(data), lazy=True)
    else:
        import pandera.polars as pa_mod
        import polars as pl

        schema = pa_mod.DataFrameSchema(
            _pandera_columns(rules, pa_mod, {"float": pl.Float64, "integer": pl.Int64, "string": pl.Utf8})
        )
        schema.validate(pl.read_parquet(data), lazy=True)
    return time.perf_counter() - start


def fairness_data(rows: int, path: Path) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    group = rng.choice(np.array(["female", "male", "nonbinary"]), rows, p=[0.49, 0.49, 0.02])
    y = (rng.random(rows) < 0.3).astype(np.int64)
    pred = (rng.random(rows) < 0.2 + 0.1 * (group == "male") + 0.3 * y).astype(np.int64)
    np.savez(path, y=y, pred=pred, group=group)


def fairness_child(data: str, tool: str) -> tuple[float, dict[str, float]]:
    """(seconds for metrics + 1,000 resamples, the point estimates)."""
    import numpy as np

    arrays = np.load(data)
    y, pred, group = arrays["y"], arrays["pred"], arrays["group"]
    start = time.perf_counter()
    if tool == "keel":
        from keel.validation.fairness import fairness

        report = fairness(y, pred, group, column="group", n_boot=1000)
        took = time.perf_counter() - start
        assert all(e.low is not None for e in report.disparities.values())
        return took, {k: e.value for k, e in report.disparities.items()}
    from fairlearn.metrics import (
        MetricFrame,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score

    frame = MetricFrame(
        metrics={
            "selection_rate": selection_rate,
            "recall": true_positive_rate,
            "false_positive_rate": false_positive_rate,
            "accuracy": accuracy_score,
        },
        y_true=y,
        y_pred=pred,
        sensitive_features=group,
        n_boot=1000,
        ci_quantiles=[0.025, 0.975],
        random_state=0,
    )
    diff, ratio = frame.difference(), frame.ratio()
    frame.difference_ci(), frame.ratio_ci()  # the intervals, as Keel computes them
    took = time.perf_counter() - start
    return took, {
        "demographic_parity_difference": float(diff["selection_rate"]),
        "demographic_parity_ratio": float(ratio["selection_rate"]),
        "equalized_odds_difference": float(max(diff["recall"], diff["false_positive_rate"])),
        "equalized_odds_ratio": float(min(ratio["recall"], ratio["false_positive_rate"])),
    }


def fairness_main(rows: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "fair.npz"
        fairness_data(rows, data)
        tools = {"keel": sys.executable, "fairlearn": PEER}
        seen: dict[str, list[dict[str, Any]]] = {t: [] for t in tools}
        for _ in range(runs):
            for name, python in tools.items():
                cmd = [python, __file__, "--child", f"fair-{name}", "--data", str(data)]
                proc = subprocess.run(cmd, capture_output=True, text=True)
                if proc.returncode != 0:
                    raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
                seen[name].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    keel_s = statistics.median(r["seconds"] for r in seen["keel"])
    print(f"fairness of {rows:,} rows, 3 groups, 1,000 bootstrap resamples, median of {runs}:")
    for name, results in seen.items():
        secs = statistics.median(r["seconds"] for r in results)
        peak = statistics.median(r["peak_mb"] for r in results)
        ratio = f"  ({secs / keel_s:.0f}x Keel's time)" if name != "keel" else ""
        print(f"  {name:10s} {secs:8.3f} s  peak {peak:6.0f} MB{ratio}")
    ours, theirs = seen["keel"][0]["points"], seen["fairlearn"][0]["points"]
    for key in ours:
        same = abs(ours[key] - theirs[key]) <= 1e-12
        print(
            f"  {key:32s} keel {ours[key]:.12f}  fairlearn {theirs[key]:.12f}  {'equal' if same else 'DIFFER'}"
        )


def child(cmd: list[str]) -> tuple[float, float]:
    """(seconds the child measured, the child's peak memory in MB)."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    _ = time.perf_counter() - start
    return out["seconds"], out["peak_mb"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", choices=["keel", "pandas", "polars", "fair-keel", "fair-fairlearn"])
    parser.add_argument("--fairness", action="store_true", help="The fairness benchmark instead.")
    parser.add_argument("--data")
    parser.add_argument("--suite")
    args = parser.parse_args()
    if args.child and args.child.startswith("fair-"):
        took, points = fairness_child(args.data, args.child.removeprefix("fair-"))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"seconds": took, "peak_mb": peak, "points": points}))
        return
    if args.fairness:
        fairness_main(args.rows, args.runs)
        return
    if args.child:
        took = (
            keel_child(args.data, args.suite)
            if args.child == "keel"
            else pandera_child(args.data, args.suite, args.child)
        )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"seconds": took, "peak_mb": peak}))
        return
    import pyarrow.parquet as pq

    from keel.validation.infer import infer_suite

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        reference = make_table(args.rows, 0)
        suite = infer_suite(reference, name="bench", reference=None, reference_digest=None)
        suite.anomalies.outliers = suite.anomalies.duplicate_rows = False
        for rules in suite.columns.values():
            rules.pattern = None
        suite.save(work / "suite.yaml")
        del reference
        data = work / "new.parquet"
        table = make_table(args.rows, 1)
        # the new batch's ids continue the reference's: unique within the batch, as the suite requires
        pq.write_table(table, data)
        del table
        tools = {
            "keel": [sys.executable, __file__, "--child", "keel"],
            "pandera-pandas": [PEER, __file__, "--child", "pandas"],
            "pandera-polars": [PEER, __file__, "--child", "polars"],
        }
        seen: dict[str, list[tuple[float, float]]] = {t: [] for t in tools}
        for _ in range(args.runs):
            for name, cmd in tools.items():
                seen[name].append(child([*cmd, "--data", str(data), "--suite", str(work / "suite.yaml")]))
        keel_s = statistics.median(s for s, _ in seen["keel"])
        print(
            f"validation of {args.rows:,} rows x 50 columns (schema, nulls, ranges, domains, uniqueness), "
            f"median of {args.runs}, read + validate:"
        )
        for name, runs in seen.items():
            secs = statistics.median(s for s, _ in runs)
            peak = statistics.median(m for _, m in runs)
            ratio = f"  ({secs / keel_s:.1f}x Keel's time)" if name != "keel" else ""
            print(f"  {name:15s} {secs:8.2f} s  peak {peak:7.0f} MB{ratio}")


if __name__ == "__main__":
    main()
