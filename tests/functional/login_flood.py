"""Bad clients for the login-flood test, run as their own process (so they do not share
the measuring test's GIL): ``python login_flood.py BASE_URL CLIENTS SECONDS [PERIOD]``.

Each client sends a wrong password (a new guess each time) to ``POST /api/v1/items``
every PERIOD seconds (default 0.5: a bounded load, since the flood is about what each
failed login costs the service, not about saturating its event loop) and ignores
Retry-After, as an attacker would. Prints ``started`` once every client has had its
first answer, then the status counts.
"""

from __future__ import annotations

import asyncio
import collections
import sys

import httpx

PERIOD = 0.5
ITEM = {
    "version_control": "git",
    "scm_repo": "https://example.invalid/x.git",
    "scm_branch": "main",
    "repo": "https://example.invalid/y",
    "branch": "main",
}


async def client(
    base_url: str,
    until: float,
    counts: collections.Counter[int],
    first: asyncio.Event,
    period: float,
) -> None:
    loop = asyncio.get_running_loop()
    async with httpx.AsyncClient(base_url=base_url, timeout=60.0) as http:
        while loop.time() < until:
            started = loop.time()
            guess = ("admin", f"guess-{id(first)}-{started}")  # every attempt a new password
            try:
                answer = await http.post("/api/v1/items", json=ITEM, auth=guess)
                counts[answer.status_code] += 1
            except httpx.TransportError:
                counts[0] += 1
            first.set()
            await asyncio.sleep(max(0.0, period - (loop.time() - started)))


async def main(base_url: str, clients: int, seconds: float, period: float) -> None:
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    counts: collections.Counter[int] = collections.Counter()
    firsts = [asyncio.Event() for _ in range(clients)]
    tasks = [asyncio.create_task(client(base_url, until, counts, e, period)) for e in firsts]
    await asyncio.gather(*(e.wait() for e in firsts))
    print("started", flush=True)
    await asyncio.gather(*tasks)
    print(dict(counts), flush=True)


if __name__ == "__main__":
    period = float(sys.argv[4]) if len(sys.argv) > 4 else PERIOD
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), period))
