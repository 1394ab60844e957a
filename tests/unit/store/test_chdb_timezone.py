"""The embedded store reads its dates in UTC whatever the machine's time zone.

chDB (26.9) applies the connection's ``session_timezone=UTC`` to literals and parameters
but not to functions of a stored ``DateTime`` column: ``toDate``, ``toString``,
``formatDateTime``, ``toHour``... use the process's time zone (``TZ``, else
``/etc/localtime``), read once when the engine loads. Before 2026-12-07, on a machine
west of UTC (``TZ=America/Los_Angeles``), ``query packages -b p10 --date 2024-05-31``
answered with the snapshot of 2024-06-01 (its midnight is 17:00 on the 31st there), and
``toString`` of every stored time was shifted by hours; east of UTC, times late in the
UTC day fell on the next day. The suite runs in UTC, so nothing saw it.

Each case runs in a child process: the engine's zone is fixed when it loads, once per
process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.unit.store.storeutil import fresh_store_url

_ROOT = Path(__file__).resolve().parents[3]

_SCRIPT = """
import json, sys, time
from datetime import UTC, date, datetime
from repotrack.errors import NotFoundError
from repotrack.store import open_store
from repotrack.store.queries import find_package_set
from tests.unit.store.rows import load_branch_snapshot, package

with open_store(sys.argv[1]) as store:
    load_branch_snapshot(store, "p10", datetime(2024, 6, 1, tzinfo=UTC), [package(1, "a", "1")], [])
    load_branch_snapshot(
        store, "p11", datetime(2024, 6, 1, 20, 30, tzinfo=UTC), [package(2, "b", "1")], []
    )
    try:
        find_package_set(store, branch="p10", day=date(2024, 5, 31))
        before = "found"
    except NotFoundError:
        before = "none"
    try:
        find_package_set(store, branch="p11", day=date(2024, 6, 1))
        late = "found"
    except NotFoundError:
        late = "none"
    shown = store.query(
        "SELECT toString(pkgset_date), toString(toDate(pkgset_date)), toHour(pkgset_date) "
        "FROM PackageSetName WHERE pkgset_depth = 0 ORDER BY pkgset_nodename"
    )
    local = time.strftime("%Z", time.localtime(1717200000))  # the process keeps its zone
print(json.dumps({"before": before, "late": late, "shown": [list(r) for r in shown],
                  "local": local}))
"""


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Asia/Vladivostok", "UTC"])
def test_stored_times_read_in_utc_in_any_zone(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, zone: str
) -> None:
    url = fresh_store_url(tmp_path_factory, tmp_path / "store")
    env = {**os.environ, "TZ": zone, "PYTHONPATH": str(_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, url],
        capture_output=True, text=True, env=env, cwd=_ROOT, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    local = datetime.fromtimestamp(1717200000, ZoneInfo(zone)).strftime("%Z")
    assert seen == {
        "local": local,  # PDT, +10, UTC: only the engine reads in UTC
        "before": "none",  # the snapshot of June 1st is not one of May 31st
        "late": "found",  # 20:30 UTC on June 1st is on June 1st
        "shown": [
            ["2024-06-01 00:00:00", "2024-06-01", 0],
            ["2024-06-01 20:30:00", "2024-06-01", 20],
        ],
    }
