"""Prometheus metrics of one server process, written in the text exposition format by hand.

Counters live in plain dicts updated on the event loop's thread (one per
worker), so recording a request costs a dict update and a bisect, not a lock
or a client library. ``/metrics`` writes requests by route and status, a
latency histogram, predicted rows, the version served, and the process's CPU
seconds and resident memory.
"""

from __future__ import annotations

import bisect
import os
import resource
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Final

BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
BATCH_BUCKETS: Final = (1, 2, 4, 8, 16, 32, 64, 128, 256, 1024)


class Metrics:
    """Request counts, latencies and rows of one process, and the versions it serves."""

    def __init__(self, deployment: str) -> None:
        self.deployment = deployment
        self.requests: defaultdict[tuple[str, int], int] = defaultdict(int)
        self.buckets = [0] * (len(BUCKETS) + 1)
        self.latency_sum = 0.0
        self.rows = 0
        self.swaps = 0
        self.swap_failures = 0
        self.versions: dict[str, int] = {}
        self.batches = [0] * (len(BATCH_BUCKETS) + 1)
        self.batch_rows = 0
        self.logged: Callable[[], tuple[int, int]] | None = None  # (rows written, rows dropped)

    def observe(self, route: str, status: int, seconds: float, rows: int = 0) -> None:
        self.requests[(route, status)] += 1
        self.buckets[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.latency_sum += seconds
        self.rows += rows

    def observe_batch(self, rows: int) -> None:
        """One ``predict`` call of ``rows`` rows (merged by the batcher, or a request alone)."""
        self.batches[bisect.bisect_left(BATCH_BUCKETS, rows)] += 1
        self.batch_rows += rows

    def render(self) -> str:
        """The exposition text (``text/plain; version=0.0.4``)."""
        d = f'deployment="{self.deployment}"'
        out = ["# TYPE keel_serving_requests_total counter"]
        for (route, status), count in sorted(self.requests.items()):
            out.append(f'keel_serving_requests_total{{{d},route="{route}",code="{status}"}} {count}')
        out.append("# TYPE keel_serving_request_seconds histogram")
        total = 0
        for bound, count in zip((*BUCKETS, float("inf")), self.buckets, strict=True):
            total += count
            le = "+Inf" if bound == float("inf") else repr(bound)
            out.append(f'keel_serving_request_seconds_bucket{{{d},le="{le}"}} {total}')
        out.append(f"keel_serving_request_seconds_sum{{{d}}} {self.latency_sum}")
        out.append(f"keel_serving_request_seconds_count{{{d}}} {total}")
        out.append("# TYPE keel_serving_rows_total counter")
        out.append(f"keel_serving_rows_total{{{d}}} {self.rows}")
        out.append("# TYPE keel_serving_batch_rows histogram")
        total = 0
        for bound, count in zip((*BATCH_BUCKETS, float("inf")), self.batches, strict=True):
            total += count
            le = "+Inf" if bound == float("inf") else str(bound)
            out.append(f'keel_serving_batch_rows_bucket{{{d},le="{le}"}} {total}')
        out.append(f"keel_serving_batch_rows_sum{{{d}}} {self.batch_rows}")
        out.append(f"keel_serving_batch_rows_count{{{d}}} {total}")
        if self.logged is not None:
            written, dropped = self.logged()
            out.append("# TYPE keel_serving_logged_rows_total counter")
            out.append(f'keel_serving_logged_rows_total{{{d},outcome="written"}} {written}')
            out.append(f'keel_serving_logged_rows_total{{{d},outcome="dropped"}} {dropped}')
        out.append("# TYPE keel_serving_model_version gauge")
        for role, number in sorted(self.versions.items()):
            out.append(f'keel_serving_model_version{{{d},role="{role}"}} {number}')
        out.append("# TYPE keel_serving_swaps_total counter")
        out.append(f'keel_serving_swaps_total{{{d},outcome="done"}} {self.swaps}')
        out.append(f'keel_serving_swaps_total{{{d},outcome="failed"}} {self.swap_failures}')
        usage = resource.getrusage(resource.RUSAGE_SELF)
        out.append("# TYPE process_cpu_seconds_total counter")
        out.append(f"process_cpu_seconds_total {usage.ru_utime + usage.ru_stime}")
        out.append("# TYPE process_resident_memory_bytes gauge")
        out.append(f"process_resident_memory_bytes {_rss()}")
        out.append(f"process_start_time_seconds {START}")
        return "\n".join(out) + "\n"


START: Final = time.time()


def _rss() -> int:
    try:
        with open(f"/proc/{os.getpid()}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux: the peak is the best there is
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
