"""Rate limiting of failed authentications, per client address.

A sliding window per client: after ``limit`` failures within ``window_s``
seconds the client is refused (429) until the oldest failure ages out, which
makes guessing tokens (already hopeless at 256 bits) also slow and visible.
Successful requests are never limited. Memory is bounded: at most
``max_clients`` addresses are tracked, the stalest dropped first.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from keel.core.errors import TooManyRequests


class FailureLimiter:
    """Counts failed sign-ins per client and refuses a client that failed too often."""

    def __init__(
        self,
        limit: int = 20,
        window_s: float = 60.0,
        *,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_clients = max_clients
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self._failures.get(client)
        if times is None:
            return deque()
        while times and now - times[0] >= self.window_s:
            times.popleft()
        if not times:
            del self._failures[client]
        return times

    def check(self, client: str) -> None:
        """Raise TooManyRequests if ``client`` has used up its failures."""
        if self.limit <= 0:
            return
        with self._lock:
            now = self._clock()
            times = self._recent(client, now)
            if len(times) >= self.limit:
                wait = max(1, math.ceil(self.window_s - (now - times[0])))
                raise TooManyRequests(
                    f"too many failed sign-ins from {client}; try again in {wait} s",
                    retry_after=wait,
                )

    def failed(self, client: str) -> None:
        """Record one failed sign-in by ``client``."""
        with self._lock:
            now = self._clock()
            times = self._recent(client, now)
            times.append(now)
            self._failures[client] = times
            self._failures.move_to_end(client)
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)
