"""Data versioning, Keel's CLI beside DVC's CLI in one run (issue 5), plus the limit and table figures.

Folder: --files files of --file-kb KB in nested folders; one --big-mb MB file.
Per tool and run, on a fresh repository holding a fresh copy of the data
(copies are not timed; both tools see a warm page cache):

  first add of the folder, first add of the big file, re-add of the unchanged
  folder, status, and add after modifying 10 files.

The limit, measured in the same run: BLAKE3 of the folder's bytes plus a copy
of them to the same disk ending with one sync. Keel's start-up (`keel
--version`) is printed too, since every CLI figure includes it. In process:
re-add and status of the unchanged folder through ``keel.data``.

--table ROWS: profile (the add) and keyed diff of a ROWS x 20 Parquet table
through the CLI, with the child's peak memory (ru_maxrss).

Medians of --runs runs, tools alternating. DVC comes from
benchmarks/.venv-peers (never a Keel dependency).

    python benchmarks/data.py --runs 3
    python benchmarks/data.py --table 5000000 --skip-folder
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
KEEL = str(Path(sys.executable).with_name("keel"))
DVC = str(HERE / ".venv-peers" / "bin" / "dvc")


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return took


def make_data(root: Path, files: int, file_kb: int, big_mb: int) -> None:
    rng = os.urandom
    images = root / "images"
    for i in range(files):
        folder = images / f"d{i % 20:02d}" / f"e{(i // 20) % 25:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i:06d}.bin").write_bytes(rng(file_kb * 1024))
    with open(root / "big.bin", "wb") as handle:
        for _ in range(big_mb):
            handle.write(rng(1 << 20))


def modify_ten(images: Path, offset: int = 0) -> None:
    for path in sorted(images.rglob("*.bin"))[offset : offset + 10]:
        path.write_bytes(os.urandom(path.stat().st_size))


def limit(src: Path, dest: Path) -> float:
    """BLAKE3 of every byte plus a copy of it to ``dest``, ending with a sync."""
    import blake3

    start = time.perf_counter()
    for path in sorted(src.rglob("*")):
        if path.is_file():
            target = dest / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            hasher = blake3.blake3()
            with open(path, "rb") as fin, open(target, "wb") as fout:
                while chunk := fin.read(1 << 20):
                    hasher.update(chunk)
                    fout.write(chunk)
    os.sync()
    return time.perf_counter() - start


def keel_round(work: Path, source: Path) -> dict[str, float]:
    repo = work / "keel-repo"
    shutil.rmtree(repo, ignore_errors=True)
    shutil.copytree(source, repo / "data")
    env = {**os.environ, "KEEL_HOME": str(repo / ".keel"), "KEEL_PROJECT": "bench"}
    for key in ("KEEL_SERVER_URL", "KEEL_DB_URL", "KEEL_ARTIFACTS_URL"):
        env.pop(key, None)
    subprocess.run([KEEL, "init", str(repo)], cwd=repo, env=env, check=True, capture_output=True)
    subprocess.run([KEEL, "project", "create", "bench"], cwd=repo, env=env, check=True, capture_output=True)
    os.sync()
    out = {
        "add folder": run([KEEL, "data", "add", "data/images", "--name", "images"], repo, env),
        "add 1 file": run([KEEL, "data", "add", "data/big.bin", "--name", "big"], repo, env),
        "re-add unchanged": run([KEEL, "data", "add", "data/images", "--name", "images"], repo, env),
        "status": run([KEEL, "data", "status", "data/images"], repo, env),
    }
    modify_ten(repo / "data" / "images")
    out["add after 10 modified"] = run([KEEL, "data", "add", "data/images", "--name", "images"], repo, env)
    out.update(in_process(repo))
    return out


def in_process(repo: Path) -> dict[str, float]:
    from keel.client import connect
    from keel.core.settings import load_settings
    from keel.data import add, status

    client = connect(settings=load_settings({"home": str(repo / ".keel")}, env={}))
    images = repo / "data" / "images"
    add(images, "images", project="bench", client=client)  # warm the connection
    start = time.perf_counter()
    add(images, "images", project="bench", client=client)
    readd = time.perf_counter() - start
    start = time.perf_counter()
    status(images, project="bench", client=client)
    took = time.perf_counter() - start
    # "After modifying 10 files, only those 10 are read": count the files the store hashes.
    backend = client.backend.ctx.artifacts.backend  # type: ignore[attr-defined]
    hashed: list[Path] = []
    original = backend.write_file
    backend.write_file = lambda path: (hashed.append(path), original(path))[1]
    time.sleep(0.1)  # past the stat cache's racily-clean window for the files written before
    modify_ten(images, offset=10)
    add(images, "images", project="bench", client=client)
    return {
        "in-process re-add": readd,
        "in-process status": took,
        "files read after 10 modified": len(hashed),
    }


def dvc_round(work: Path, source: Path) -> dict[str, float]:
    repo = work / "dvc-repo"
    shutil.rmtree(repo, ignore_errors=True)
    shutil.copytree(source, repo / "data")
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "DVC_SITE_CACHE_DIR": str(work / "dvc-site")}
    shutil.rmtree(work / "dvc-site", ignore_errors=True)
    subprocess.run([DVC, "init", "--no-scm"], cwd=repo, env=env, check=True, capture_output=True)
    os.sync()
    out = {
        "add folder": run([DVC, "add", "data/images"], repo, env),
        "add 1 file": run([DVC, "add", "data/big.bin"], repo, env),
        "re-add unchanged": run([DVC, "add", "data/images"], repo, env),
        "status": run([DVC, "status", "data/images.dvc"], repo, env),
    }
    modify_ten(repo / "data" / "images")
    out["add after 10 modified"] = run([DVC, "add", "data/images"], repo, env)
    return out


def median_of(rounds: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}


def folder_bench(args: argparse.Namespace, work: Path) -> None:
    source = work / "source"
    if not source.exists():
        print(f"generating {args.files} x {args.file_kb} KB files and a {args.big_mb} MB file...", flush=True)
        make_data(source, args.files, args.file_kb, args.big_mb)
    keel_runs: list[dict[str, float]] = []
    dvc_runs: list[dict[str, float]] = []
    limits_folder: list[float] = []
    limits_big: list[float] = []
    startup: list[float] = []
    for i in range(args.runs):
        print(f"run {i + 1}/{args.runs}", flush=True)
        order: list[tuple[str, Callable[[], None]]] = [
            ("keel", lambda: keel_runs.append(keel_round(work, source))),
            ("dvc", lambda: dvc_runs.append(dvc_round(work, source))),
        ]
        if i % 2:
            order.reverse()
        for _name, step in order:
            step()
        dest = work / "limit"
        shutil.rmtree(dest, ignore_errors=True)
        limits_folder.append(limit(source / "images", dest / "images"))
        big_dest = dest / "big"
        big_dest.mkdir(parents=True)
        start = time.perf_counter()
        import blake3

        hasher = blake3.blake3()
        with open(source / "big.bin", "rb") as fin, open(big_dest / "big.bin", "wb") as fout:
            while chunk := fin.read(1 << 22):
                hasher.update(chunk)
                fout.write(chunk)
        os.sync()
        limits_big.append(time.perf_counter() - start)
        startup.append(run([KEEL, "--version"], work, dict(os.environ)))
        shutil.rmtree(dest, ignore_errors=True)
    keel, dvc = median_of(keel_runs), median_of(dvc_runs)
    print(f"\nmedian of {args.runs} runs; {args.files} files x {args.file_kb} KB, one {args.big_mb} MB file")
    print(f"{'step':28} {'keel s':>9} {'dvc s':>9} {'dvc/keel':>9}")
    for step, value in keel.items():
        if step in dvc:
            print(f"{step:28} {value:9.3f} {dvc[step]:9.3f} {dvc[step] / value:9.2f}x")
        else:
            print(f"{step:28} {value:9.4f}")
    lim_f, lim_b, up = (
        statistics.median(limits_folder),
        statistics.median(limits_big),
        statistics.median(startup),
    )
    print(
        f"limit (BLAKE3 + copy + sync), folder: {lim_f:.3f} s; keel add folder / (limit + start-up {up:.3f} s) = "
        f"{keel['add folder'] / (lim_f + up):.2f}x"
    )
    print(
        f"limit, big file: {lim_b:.3f} s; keel add file / (limit + start-up) = {keel['add 1 file'] / (lim_b + up):.2f}x"
    )


def write_table(rows: int, path: Path, version: int) -> None:
    """v1: ROWS x 20 columns; v2 (rewrites v1 in place): first 1 % dropped, 1 % of f0 changed, 1 % appended."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(version)
    step = 500_000

    def chunk(start: int, n: int, shift: float) -> pa.Table:
        cols: dict[str, pa.Array] = {"id": pa.array(np.arange(start, start + n, dtype=np.int64))}
        for j in range(8):
            cols[f"f{j}"] = pa.array(rng.normal(shift, 1, n))
        for j in range(6):
            cols[f"i{j}"] = pa.array(rng.integers(0, 1000, n))
        for j in range(5):
            cols[f"s{j}"] = pa.array(np.char.add("c", rng.integers(0, 50, n).astype(str)))
        return pa.table(cols)

    if version == 1:
        with pq.ParquetWriter(path, chunk(0, 1, 0).schema) as writer:
            for start in range(0, rows, step):
                writer.write_table(chunk(start, min(step, rows - start), 0.0))
        return
    source = pq.ParquetFile(path)
    out = path.with_name("v2-" + path.name)
    with pq.ParquetWriter(out, source.schema_arrow) as writer:
        for batch in source.iter_batches(batch_size=step):
            t = pa.Table.from_batches([batch])
            t = t.filter(pa.array(t.column("id").to_numpy() >= rows // 100))
            f0 = t.column("f0").to_numpy().copy()
            f0[t.column("id").to_numpy() % 100 == 7] += 1.0
            writer.write_table(t.set_column(1, "f0", pa.array(f0)))
        writer.write_table(chunk(rows, rows // 100, 0.5))
    out.replace(path)


def table_bench(rows: int, work: Path) -> None:
    """Each step runs in a fresh child whose own peak RSS (os.wait4) is reported.

    The data is written by child processes too, so no child inherits (through
    fork) a parent that holds the table in memory.
    """
    repo = work / "table-repo"
    shutil.rmtree(repo, ignore_errors=True)
    (repo / "data").mkdir(parents=True)
    path = repo / "data" / "wide.parquet"
    env = {**os.environ, "KEEL_HOME": str(repo / ".keel"), "KEEL_PROJECT": "bench"}

    def child(cmd: list[str]) -> tuple[float, float]:
        """Wall time and this one child's peak RSS in MB (os.wait4 gives its own rusage)."""
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _pid, status, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - start
        if status != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
        return took, usage.ru_maxrss / 1024

    print(f"writing a {rows:,} x 20 Parquet table...", flush=True)
    me = [sys.executable, str(Path(__file__).resolve()), "--write-table", str(rows), "--out", str(path)]
    child([*me, "--version", "1"])
    child([KEEL, "init", str(repo)])
    child([KEEL, "project", "create", "bench"])
    add1, mem1 = child([KEEL, "data", "add", "data/wide.parquet", "--name", "wide"])
    child([*me, "--version", "2"])
    add2, mem2 = child([KEEL, "data", "add", "data/wide.parquet", "--name", "wide"])
    diff, mem3 = child([KEEL, "data", "diff", "wide@v1", "wide@v2", "--key", "id"])
    print(f"\n{rows:,} rows x 20 columns, Parquet")
    print(f"add + profile v1: {add1:.1f} s, peak RSS {mem1:.0f} MB")
    print(f"add + profile v2: {add2:.1f} s, peak RSS {mem2:.0f} MB")
    print(f"keyed diff v1 -> v2 (--key id): {diff:.1f} s, peak RSS {mem3:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--file-kb", type=int, default=100)
    parser.add_argument("--big-mb", type=int, default=1024)
    parser.add_argument("--table", type=int, default=0, help="rows of the profile/keyed-diff table (0: skip)")
    parser.add_argument("--skip-folder", action="store_true")
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: a temporary one)")
    parser.add_argument("--write-table", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--version", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_table:
        write_table(args.write_table, args.out, args.version)
        return
    work = args.dir or Path(tempfile.mkdtemp(prefix="keel-bench-data-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if not args.skip_folder:
            folder_bench(args, work)
        if args.table:
            table_bench(args.table, work)
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
