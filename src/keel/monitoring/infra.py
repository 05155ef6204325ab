"""A deployment's serving health over a window, read from its prediction log.

Every answered request is logged with the server's own latency and time, by
every replica, so the log gives latency percentiles, throughput and the
versions served without scraping each process. The replica recommendation
scales today's count by p95 latency against the target the monitor names
(a target of 50 ms and a p95 of 120 ms on 2 replicas recommends 5).
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from keel.monitoring.schemas import InfraFigures


def infra_figures(
    window: pa.Table,
    since: datetime,
    until: datetime,
    *,
    latency_target_ms: float | None = None,
    replicas: int | None = None,
) -> InfraFigures:
    """Latency p50/p95/p99, throughput and versions of one deployment's log window."""
    seconds = max((until - since).total_seconds(), 1e-9)
    rows = window.num_rows
    requests = 0
    p50 = p95 = p99 = None
    versions: dict[str, int] = {}
    if rows:
        ids = window.column("request_id").to_pylist()
        # A multi-row request logs rows ``id:0 .. id:n-1`` with the request's one latency.
        firsts = [i for i, rid in enumerate(ids) if ":" not in rid or rid.endswith(":0")]
        requests = len(firsts)
        latencies = window.column("latency_ms").to_numpy()[firsts] if firsts else np.zeros(0)
        if latencies.size:
            p50, p95, p99 = (float(v) for v in np.percentile(latencies, [50, 95, 99]))
        counted = pc.value_counts(window.column("model_version"))
        versions = {
            str(v): int(c)
            for v, c in zip(
                counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True
            )
        }
    recommended = None
    if latency_target_ms and p95 is not None:
        recommended = max(1, math.ceil((replicas or 1) * p95 / latency_target_ms))
    return InfraFigures(
        requests=requests,
        rows=rows,
        window_s=seconds,
        throughput_rps=rows / seconds,
        latency_p50_ms=p50,
        latency_p95_ms=p95,
        latency_p99_ms=p99,
        model_versions=versions,
        latency_target_ms=latency_target_ms,
        replicas=replicas,
        replicas_recommended=recommended,
    )
