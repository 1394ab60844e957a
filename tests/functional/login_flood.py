"""Bad clients for the login-flood test, run as their own process (so they do not share
the measuring test's GIL): ``python login_flood.py BASE_URL CLIENTS SECONDS``.

Each client sends a wrong password to ``POST /api/v1/items`` twice a second (a bounded
load: the flood is about what each failed login costs the service, not about
saturating its event loop) and ignores Retry-After, as an attacker would. Prints
``started`` once every client has had its first answer, then the status counts.
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
    base_url: str, until: float, counts: collections.Counter[int], first: asyncio.Event
) -> None:
    loop = asyncio.get_running_loop()
    async with httpx.AsyncClient(base_url=base_url, timeout=60.0, auth=("admin", "nope")) as http:
        while loop.time() < until:
            started = loop.time()
            try:
                answer = await http.post("/api/v1/items", json=ITEM)
                counts[answer.status_code] += 1
            except httpx.TransportError:
                counts[0] += 1
            first.set()
            await asyncio.sleep(max(0.0, PERIOD - (loop.time() - started)))


async def main(base_url: str, clients: int, seconds: float) -> None:
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    counts: collections.Counter[int] = collections.Counter()
    firsts = [asyncio.Event() for _ in range(clients)]
    tasks = [asyncio.create_task(client(base_url, until, counts, e)) for e in firsts]
    await asyncio.gather(*(e.wait() for e in firsts))
    print("started", flush=True)
    await asyncio.gather(*tasks)
    print(dict(counts), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3])))
