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
    parser.add_argument("--child", choices=["keel", "pandas", "polars"])
    parser.add_argument("--data")
    parser.add_argument("--suite")
    args = parser.parse_args()
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
