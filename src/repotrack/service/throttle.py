"""Failed-login throttling: per client address and per user name, in a sliding window.

Every wrong Basic-auth password costs a full pbkdf2 run (0.5 s at 600 000 rounds).
Measured before this existed: with 45 clients sending wrong passwords, an anonymous
``GET`` went from 7-10 ms to 1.2 s p50 (10 s max) and no client was ever told to slow
down. So a client address or a user name that failed ``limit`` times within
``window`` seconds is refused with 429 and ``Retry-After`` (the seconds until its
oldest failure leaves the window) *before* any hashing; a success does not erase
failures, so guessing stays throttled.

The price is known and accepted: someone failing as ``admin`` from many addresses
also delays the real admin's first login for up to ``window`` seconds. Credentials
that already succeeded since start-up are recognised without hashing (see
``auth.BasicAuth``) and are never throttled.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["FailureThrottle"]

#: Keys remembered at most (addresses and users together); the oldest are dropped.
_MAX_KEYS = 10_000


class FailureThrottle:
    """Counts failures per key; ``retry_after`` says whether (and how long) to refuse."""

    def __init__(
        self,
        *,
        limit: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, *keys: str) -> int | None:
        """Whole seconds to wait if any of ``keys`` is over the limit, else None."""
        now = self._clock()
        worst = 0.0
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if times is not None and len(times) >= self.limit:
                    worst = max(worst, times[0] + self.window - now)
        return max(1, math.ceil(worst)) if worst > 0 else None

    def failed(self, *keys: str) -> None:
        """Record one failure against each of ``keys``."""
        now = self._clock()
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if times is None:
                    if len(self._failures) >= _MAX_KEYS:
                        self._failures.pop(next(iter(self._failures)))
                    times = self._failures[key] = deque()
                times.append(now)
                while len(times) > self.limit:
                    times.popleft()

    def forgive(self, *keys: str) -> None:
        """Take back the newest failure of each of ``keys`` (the attempt succeeded after all).

        Attempts are counted as failures *before* their hash runs, so that many
        requests arriving at once cannot all pass the check while none has failed yet.
        """
        with self._lock:
            for key in keys:
                times = self._failures.get(key)
                if times:
                    times.pop()
                    if not times:
                        del self._failures[key]

    def _recent(self, key: str, now: float) -> deque[float] | None:
        """The failures of ``key`` still inside the window (caller holds the lock)."""
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times
