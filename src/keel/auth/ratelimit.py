"""Rate limiting of failed authentications, per client address.

After ``limit`` failures within ``window_s`` seconds a client is *limited* for
a whole window: the server refuses its requests with 429 before looking at
any token it sends, so a guesser learns nothing from guesses made while
limited (before, each guess was still checked, and a right one answered 200).
When the window has passed the slate is clean. Tokens are already hopeless to
guess at 256 bits; this makes trying slow and visible too.

Memory is bounded: at most ``max_clients`` addresses are tracked, the stalest
dropped first.
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
        self._limited_until: OrderedDict[str, float] = OrderedDict()
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

    def retry_after(self, client: str) -> int | None:
        """Whole seconds until ``client`` may try again, or None if it is not limited now."""
        if self.limit <= 0:
            return None
        with self._lock:
            now = self._clock()
            until = self._limited_until.get(client)
            if until is None:
                return None
            if now >= until:  # the window passed: start afresh
                del self._limited_until[client]
                self._failures.pop(client, None)
                return None
            return max(1, math.ceil(until - now))

    def check(self, client: str) -> None:
        """Raise TooManyRequests (with ``retry_after``) if ``client`` is limited now."""
        wait = self.retry_after(client)
        if wait is not None:
            raise TooManyRequests(
                f"too many failed sign-ins from {client}; try again in {wait} s",
                retry_after=wait,
            )

    def failed(self, client: str) -> None:
        """Record one failed sign-in by ``client``; the ``limit``-th within the window limits it."""
        if self.limit <= 0:
            return
        with self._lock:
            now = self._clock()
            times = self._recent(client, now)
            times.append(now)
            self._failures[client] = times
            self._failures.move_to_end(client)
            if len(times) >= self.limit:
                self._limited_until[client] = now + self.window_s
                self._limited_until.move_to_end(client)
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)
            while len(self._limited_until) > self.max_clients:
                self._limited_until.popitem(last=False)
