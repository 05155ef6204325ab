"""The artifact store against the hash-and-copy limit (issue 3).

For each workload Keel and the limit run on the same bytes in the same run,
alternating, and the median of --runs runs is printed with the ratio:

- one large file (--size-mb, default 1024): Keel's ``put_file`` + ``sync`` against
  BLAKE3 of the file plus a plain copy of it to the same disk, ending with the
  same ``syncfs``;
- many small files (--files x --file-kb, default 10,000 x 100 KB): Keel's
  ``put_tree`` (fresh store and stat cache; it ends with its syncfs) against
  BLAKE3 of every file plus a plain copy of every file, ending with a syncfs;
- re-putting the unchanged small files in process (warm stat cache);
- a streamed upload through ``keel server`` (--upload-mb, default 2048; 0 skips):
  peak growth of client and server resident memory over their idle size.

Sources sit in a warm page cache (just written), as in the issue's figures.

    python benchmarks/cas.py                       # the issue's sizes
    python benchmarks/cas.py --size-mb 64 --files 500 --upload-mb 32 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import blake3

from keel.artifacts import open_artifacts
from keel.artifacts.syncfs import syncfs

CHUNK = 4 << 20


def _hash_file(path: Path) -> str:
    hasher = blake3.blake3()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            hasher.update(chunk)
    return str(hasher.hexdigest())


def _fresh(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def _settle(work: Path) -> None:
    """Flush what earlier steps left dirty, so no run pays for another's write-back."""
    syncfs(work)


def _timed(func: Callable[[], Any]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def limit_large(src: Path, work: Path) -> float:
    """BLAKE3 of the file, then a plain copy to the same disk, then syncfs."""
    dest = _fresh(work / "limit") / "copy.bin"
    _settle(work)

    def run() -> None:
        _hash_file(src)
        shutil.copyfile(src, dest)
        syncfs(work)

    return _timed(run)


def keel_large(src: Path, work: Path) -> float:
    store = open_artifacts(str(_fresh(work / "keel") / "objects"))
    _settle(work)

    def run() -> None:
        store.put_file(src)
        store.sync()

    return _timed(run)


def limit_small(files: list[Path], work: Path) -> float:
    """BLAKE3 of every file, then a plain copy of every file, then syncfs."""
    dest = _fresh(work / "limit")
    _settle(work)

    def run() -> None:
        for path in files:
            _hash_file(path)
        for index, path in enumerate(files):
            shutil.copyfile(path, dest / f"{index}.bin")
        syncfs(work)

    return _timed(run)


def keel_small(folder: Path, work: Path) -> tuple[float, float]:
    """A first put_tree (fresh store, fresh stat cache) and a re-put of the unchanged folder."""
    base = _fresh(work / "keel")
    store = open_artifacts(str(base / "objects"), cache_dir=base / "cache")
    _settle(work)
    first = _timed(lambda: store.put_tree(folder))
    again = _timed(lambda: store.put_tree(folder))
    return first, again


def make_inputs(work: Path, size_mb: int, files: int, file_kb: int) -> tuple[Path, Path, list[Path]]:
    big = work / "input" / "large.bin"
    big.parent.mkdir(parents=True, exist_ok=True)
    block = os.urandom(CHUNK)
    with open(big, "wb") as out:
        for i in range(size_mb * (1 << 20) // CHUNK):
            out.write(i.to_bytes(8, "little") + block[8:])
        rest = size_mb * (1 << 20) % CHUNK
        if rest:
            out.write(block[:rest])
    folder = work / "input" / "small"
    folder.mkdir(exist_ok=True)
    paths = []
    payload = os.urandom(file_kb * 1024)
    for i in range(files):
        path = folder / f"d{i % 100:02}" / f"f{i:05}.bin"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(i.to_bytes(8, "little") + payload[8:])
        paths.append(path)
    past = time.time() - 3600  # written "earlier": out of the stat cache's racily-clean window
    for path in paths:
        os.utime(path, (past, past))
    syncfs(work)
    return big, folder, paths


def _rss_sampler(pids: dict[str, int]) -> tuple[dict[str, int], Callable[[], None]]:
    import psutil

    peaks = dict.fromkeys(pids, 0)
    procs = {name: psutil.Process(pid) for name, pid in pids.items()}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            for name, proc in procs.items():
                peaks[name] = max(peaks[name], proc.memory_info().rss)
            time.sleep(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()

    def finish() -> None:
        stop.set()
        thread.join()

    return peaks, finish


def upload_memory(work: Path, upload_mb: int) -> dict[str, float]:
    """Stream ``upload_mb`` MB through a real `keel server`; peak RSS growth of client and server."""
    import psutil

    from keel.client import connect
    from keel.core.operations import ByteStream
    from keel.core.settings import load_settings
    from keel.testing import fixtures

    settings = fixtures.new_workspace(_fresh(work / "server"))
    make_token = getattr(fixtures, "admin_token", None)
    token = make_token(settings) if make_token is not None else None
    server = fixtures.ServerProcess(Path(settings.home))
    try:
        server.wait_ready()
        client = connect(settings=load_settings({"server_url": server.url, "token": token}, env={}, cwd=work))
        client.projects.create(name="bench")
        block = os.urandom(1 << 20)

        def body(megabytes: int) -> Iterator[bytes]:
            for i in range(megabytes):
                yield i.to_bytes(8, "little") + block[8:]

        client.artifacts.upload(project="bench", data=ByteStream(body(4)))  # warm both processes up
        idle = {
            "client": psutil.Process().memory_info().rss,
            "server": psutil.Process(server.process.pid).memory_info().rss,
        }
        peaks, finish = _rss_sampler({"client": os.getpid(), "server": server.process.pid})
        start = time.perf_counter()
        info = client.artifacts.upload(project="bench", data=ByteStream(body(upload_mb)))
        seconds = time.perf_counter() - start
        finish()
        assert info.size == upload_mb << 20
        return {
            "upload_mb": upload_mb,
            "seconds": seconds,
            "client_growth_mb": (peaks["client"] - idle["client"]) / 2**20,
            "server_growth_mb": (peaks["server"] - idle["server"]) / 2**20,
        }
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=int, default=1024, help="Size of the large file.")
    parser.add_argument("--files", type=int, default=10_000, help="How many small files.")
    parser.add_argument("--file-kb", type=int, default=100, help="Size of each small file.")
    parser.add_argument("--upload-mb", type=int, default=2048, help="Size of the REST upload (0 skips it).")
    parser.add_argument("--runs", type=int, default=3, help="Runs of each side (median reported).")
    parser.add_argument("--dir", type=Path, default=None, help="Work folder (default: a temporary one).")
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON too.")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="keel-cas-", dir=args.dir))
    try:
        big, folder, paths = make_inputs(work, args.size_mb, args.files, args.file_kb)
        samples: dict[str, list[float]] = {
            k: [] for k in ("limit_large", "keel_large", "limit_small", "keel_small", "reput")
        }
        for _ in range(args.runs):  # alternate, so machine noise hits both sides alike
            samples["limit_large"].append(limit_large(big, work))
            samples["keel_large"].append(keel_large(big, work))
            samples["limit_small"].append(limit_small(paths, work))
            first, again = keel_small(folder, work)
            samples["keel_small"].append(first)
            samples["reput"].append(again)
        med = {k: statistics.median(v) for k, v in samples.items()}
        small_mb = args.files * args.file_kb / 1024
        results: dict[str, Any] = {
            "large_mb": args.size_mb,
            "small": f"{args.files} x {args.file_kb} KB",
            "runs": args.runs,
            "median_s": med,
            "large_ratio": med["keel_large"] / med["limit_large"],
            "small_ratio": med["keel_small"] / med["limit_small"],
        }
        print(
            f"large file {args.size_mb} MB   limit {med['limit_large']:.3f} s   keel {med['keel_large']:.3f} s"
            f"   ratio {results['large_ratio']:.2f}x (target <= 1.3x)"
            f"   keel {args.size_mb / med['keel_large']:.0f} MB/s"
        )
        print(
            f"small files {results['small']}   limit {med['limit_small']:.3f} s   keel {med['keel_small']:.3f} s"
            f"   ratio {results['small_ratio']:.2f}x (target <= 2x)   keel {small_mb / med['keel_small']:.0f} MB/s"
        )
        print(
            f"re-put unchanged {args.files} files (stat cache)   keel {med['reput'] * 1000:.1f} ms (target < 100 ms)"
        )
        if args.upload_mb:
            mem = upload_memory(work, args.upload_mb)
            results["upload"] = mem
            print(
                f"REST upload {args.upload_mb} MB in {mem['seconds']:.1f} s   peak RSS growth: client "
                f"{mem['client_growth_mb']:.1f} MB, server {mem['server_growth_mb']:.1f} MB (target <= 50 MB)"
            )
        if args.json:
            print(json.dumps(results, indent=2))
        return results
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
