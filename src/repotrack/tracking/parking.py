"""Forges parked after a rate limit: the whole forge waits, the scan goes on with the rest.

A forge that says "wait" (``RateLimitError.retry_at``) is out of quota for every item on
it, not only for the item that happened to hit the limit; letting the other items try
would spend more requests and earn longer bans. So the tracker parks the forge (by its
``[forges.<name>]`` name) until the reset: items on it are skipped before any fetch or
API call, and their turn comes at the first scan after the reset. Items on other forges,
and items with nothing new (which need no forge at all), run as usual.

Parking lives in the tracker's memory: a restart forgets it, and the first call after
the restart meets the forge's limit again and parks it again.
"""

from __future__ import annotations

import threading
from datetime import datetime

from repotrack.state import utcnow

__all__ = ["ForgeParking"]


class ForgeParking:
    """Forge name -> the time its rate limit resets; thread-safe."""

    def __init__(self) -> None:
        self._until: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def park(self, forge: str, until: datetime) -> None:
        with self._lock:
            current = self._until.get(forge)
            if current is None or until > current:
                self._until[forge] = until

    def until(self, forge: str) -> datetime | None:
        """When ``forge`` may be called again, or None when it is not parked (any more)."""
        now = utcnow()
        with self._lock:
            until = self._until.get(forge)
            if until is not None and until <= now:
                del self._until[forge]
                return None
            return until
