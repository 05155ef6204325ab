"""How long a search with an N-comparison filter takes (issue 11.2), on SQLite and PostgreSQL.

    .venv/bin/python scripts/search_cost.py                      # SQLite, 200 runs, N = 50 100 200
    .venv/bin/python scripts/search_cost.py --db-url postgresql+psycopg://postgres@127.0.0.1/bench --sizes 50 200

Seeds one project (runs with 20 metrics, 20 params, 3 tags each), then times
``runs.search`` with ``and``-joined filters cycling over metrics, params and
tags (the issue's shape) and, with ``--distinct``, over N distinct metric keys
(the worst case for the compile: one SELECT per key). Median of ``--repeat``
runs. Filters past ``search_max_terms`` are refused; ``--max-terms`` raises
the limit to measure beyond it. No peer: this measures Keel against itself
(the figures before and after the change are in benchmarks/RESULTS.md).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from keel.client import Client, connect
from keel.core.errors import InvalidInput
from keel.core.settings import load_settings
from keel.store.migrate import upgrade_url
from keel.testing.fixtures import new_workspace


def seed(client: Client, project: str, runs: int, keys: int) -> None:
    client.projects.create(name=project)
    for i in range(runs):
        run = client.runs.create(
            project=project,
            name=f"r{i}",
            params={f"p{k}": i % (k + 2) for k in range(keys)},
            tags={f"t{k}": f"v{i % 3}" for k in range(3)},
        )
        client.runs.log_batch(
            run_id=run.id, metrics=[(f"m{k}", (i * 7 + k) % 100 / 100, 0, 1) for k in range(keys)]
        )


def mixed(n: int, keys: int) -> str:
    """The issue's shape: N true comparisons over metrics, params and tags, and-joined."""
    kinds = ["metrics.m{} >= 0", "params.p{} >= 0", "tags.t{} != 'x'"]
    return " and ".join(kinds[j % 3].format(j % (keys if j % 3 < 2 else 3)) for j in range(n))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db-url", help="a migrated-or-empty database (default: a fresh SQLite workspace)")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--keys", type=int, default=20)
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--max-terms", type=int, default=None, help="raise search_max_terms to time past it")
    parser.add_argument(
        "--distinct", action="store_true", help="N distinct metric keys (runs get max(sizes) metrics)"
    )
    args = parser.parse_args()
    overrides = {"run_heartbeat_timeout_s": 0}
    if args.max_terms:
        overrides["search_max_terms"] = args.max_terms
    folder = Path(tempfile.mkdtemp())
    if args.db_url:
        upgrade_url(args.db_url)
        settings = load_settings({"db_url": args.db_url, **overrides}, env={}, cwd=folder)
    else:
        settings = new_workspace(folder / "ws", **overrides)
    client = connect(settings=settings)
    project = "search-cost-" + uuid.uuid4().hex[:8]
    keys = max(args.sizes) if args.distinct else args.keys
    seed(client, project, args.runs, keys)
    for n in args.sizes:
        text = " and ".join(f"metrics.m{j} >= 0" for j in range(n)) if args.distinct else mixed(n, args.keys)
        times = []
        outcome = ""
        for _ in range(args.repeat):
            start = time.perf_counter()
            try:
                page = client.runs.search(project=project, filter=text, limit=50)
                outcome = f"{len(page.items)} runs"
            except InvalidInput as exc:
                outcome = "refused: " + exc.message.splitlines()[0]
            times.append(time.perf_counter() - start)
        shape = "distinct keys" if args.distinct else "mixed"
        backend = (settings.db_url or "").split(":")[0]
        print(f"{backend:>18} {n:>5} comparisons ({shape}): {statistics.median(times):.3f} s, {outcome}")


if __name__ == "__main__":
    main()
