"""45 clients sending wrong passwords must not slow a normal ``GET`` past twice its
unloaded latency (issue 9: before, 1.2 s p50 and 10 s max; never a 429).

The service is a real ``repotrack serve`` process with a real 600 000-round pbkdf2
hash; the bad clients are another process (``login_flood.py``), two requests a second
each; this test measures sequential anonymous ``GET /api/v1/items`` medians unloaded,
then under the flood. The machine running the suite may be busy with other work, so
the comparison uses medians with 10 ms of margin and is repeated once
before it fails; the figures are printed either way.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.functional.serve_process import Served, serve_process

pytestmark = pytest.mark.slow

FLOOD = Path(__file__).with_name("login_flood.py")
CLIENTS = 45
SAMPLES = 40
MARGIN = 0.010  # seconds: scheduling noise on a loaded machine


def median_get(http: httpx.Client) -> float:
    times = []
    for _ in range(SAMPLES):
        start = time.perf_counter()
        assert http.get("/api/v1/items").status_code == 200
        times.append(time.perf_counter() - start)
        time.sleep(0.02)
    return statistics.median(times)


def measure(served: Served) -> tuple[float, float, str]:
    with httpx.Client(base_url=served.base_url, timeout=60.0) as http:
        median_get(http)  # warm up
        unloaded = median_get(http)
        flood = subprocess.Popen(
            [sys.executable, str(FLOOD), served.base_url, str(CLIENTS), "10"],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert flood.stdout is not None
            assert flood.stdout.readline().strip() == "started"
            loaded = median_get(http)
            counts = flood.stdout.read()
            flood.wait(timeout=60)
        finally:
            if flood.poll() is None:
                flood.kill()
                flood.wait()
    return unloaded, loaded, counts


def test_get_latency_under_45_bad_clients(tmp_path: Path) -> None:
    with serve_process(tmp_path, iterations=600_000) as served:
        for attempt in (1, 2):
            unloaded, loaded, counts = measure(served)
            print(
                f"attempt {attempt}: GET p50 unloaded {unloaded * 1000:.1f} ms, "
                f"under {CLIENTS} bad clients {loaded * 1000:.1f} ms; flood answers {counts}"
            )
            if loaded <= 2 * unloaded + MARGIN:
                break
        assert loaded <= 2 * unloaded + MARGIN
        assert "429" in counts
