"""Vulnerability loads and rematches killed at any write, then run again, leave what a
clean run leaves.

Each case SIGKILLs the command right after its k-th write to the store
(``crashing_cli.py``: every insert block and every command, a vulnerability load
writing four records a batch), for every k, runs the same command again, and compares
what readers see with a single clean run: the ranges (``CpeMatch``, as a multiset: a
range written twice is matched twice), each record's current version, the verdicts
with their evidence, the status rows the ALTRepo API reads, and the match rows. The
world is the hand-checked one of ``tests/unit/security/world.py`` (every status path).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from repotrack.ingest.vulns import CPM_COLUMNS, load_vulns
from repotrack.security import rematch_branch
from repotrack.security.triage import record_triage
from repotrack.store import Store, open_store
from tests.unit.security.world import (
    BRANCH,
    SYNTHETIC,
    build_world,
    deletes_applied,
    nvd_files,
)
from tests.unit.store.storeutil import template_store

HERE = Path(__file__).resolve().parent
CRASHING = HERE / "crashing_cli.py"
BIN = Path(sys.executable).parent


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPOTRACK_")}
    env["REPOTRACK_HOME"] = str(home)
    return env


def _run(home: Path, args: list[str], *, kill_after: int | None = None) -> Any:
    """The command as a user runs it, or (``kill_after``) killed after that many writes."""
    head = [str(BIN / "repotrack")]
    if kill_after is not None:
        head = [sys.executable, str(CRASHING), str(kill_after), str(home / "writes.log")]
    return subprocess.run(
        [*head, *args], env=_env(home), capture_output=True, text=True, timeout=300, check=False
    )


def _writes(home: Path, args: list[str], said: str) -> list[str]:
    """The writes of a whole run of ``args`` (its store changed: run it on a copy)."""
    done = _run(home, args, kill_after=0)
    assert done.returncode == 0, done.stderr
    assert said in done.stdout, done.stdout
    return (home / "writes.log").read_text().splitlines()


def _seen(store: Store) -> dict[str, Any]:
    """What readers of the vulnerability tables see, without the runs' times and ids."""
    deletes_applied(store)
    ranges = ", ".join(f"`{c}`" for c in CPM_COLUMNS)
    return {
        "ranges": Counter(store.query(f"SELECT {ranges} FROM CpeMatch")),  # noqa: S608
        "current": set(
            store.query(
                "SELECT vuln_id, argMax(vuln_hash, ts), argMax(vuln_rejected, ts) "
                "FROM Vulnerabilities GROUP BY vuln_id"
            )
        ),
        "verdicts": set(
            store.query(
                "SELECT pkg_name, vuln_id, toString(argMax(pvv_status, ts)), "
                "argMax(pvv_reason, ts), toString(argMax(pvv_evidence.detail, ts)) "
                "FROM PackagesVulnerabilityVerdict WHERE pkgset_name = {b:String} "
                "GROUP BY pkg_name, vuln_id",
                {"b": BRANCH},
            )
        ),
        # Every row: the ALTRepo API reads all rows of a pair (open: one vulnerable, none fixed).
        "statuses": set(
            store.query(
                "SELECT pkg_hash, pkg_name, vuln_id, vuln_hash, is_vulnerable, is_fixed "
                "FROM PackagesVulnerabilityStatus WHERE pkgset_name = {b:String}",
                {"b": BRANCH},
            )
        ),
        "matches": Counter(
            store.query(
                "SELECT pkg_hash, vuln_id, vuln_hash, cpm_cpe_hash, is_vulnerable "
                "FROM PackagesCveMatch FINAL"
            )
        ),
    }


def _dump(home: Path) -> dict[str, Any]:
    with open_store(f"chdb://{home / 'store'}") as store:
        return _seen(store)


def _home_from(factory: pytest.TempPathFactory, template: Path, name: str) -> Path:
    home = factory.mktemp(name)
    shutil.copytree(template, home / "store", symlinks=True)
    return home


def _prepared(factory: pytest.TempPathFactory, name: str, fill: Callable[[Store], None]) -> Path:
    """A closed store directory: the migrated template, then ``fill``."""
    path = factory.mktemp(name) / "store"
    shutil.copytree(template_store(factory), path, symlinks=True)
    with open_store(f"chdb://{path}") as store:
        fill(store)
    return path


def _every_kill(
    factory: pytest.TempPathFactory,
    template: Path,
    args: list[str],
    *,
    said: str,
    min_writes: int,
) -> dict[str, Any]:
    """Kill ``args`` after each of its writes, run it again, compare with a clean run
    (which prints ``said``); what the clean run left. A run killed after its last
    essential write (a rematch's run row) leaves the rerun nothing to do: the same
    state is all that is asked of it."""
    clean = _home_from(factory, template, "clean")
    writes = _writes(clean, args, said)
    assert len(writes) >= min_writes, writes
    want = _dump(clean)
    for after in range(1, len(writes) + 1):
        home = _home_from(factory, template, f"kill{after}")
        killed = _run(home, args, kill_after=after)
        assert killed.returncode == -signal.SIGKILL, (after, killed.stderr)
        again = _run(home, args)
        assert again.returncode == 0, (after, writes[after - 1], again.stderr)
        got = _dump(home)
        for key, value in want.items():
            assert got[key] == value, (key, after, writes[after - 1])
        shutil.rmtree(home)
    return want


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_killed_feed_load_then_rerun_equals_a_clean_load(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    template = _prepared(tmp_path_factory, "empty", lambda store: None)
    files = [str(path) for path in nvd_files(tmp_path)]
    # 8 records in batches of 4: each batch writes its ranges, then its records.
    args = ["load", "vulns", "nvd", *files]
    want = _every_kill(tmp_path_factory, template, args, said="8 record(s)", min_writes=4)
    assert len(want["current"]) == 8 and len(want["ranges"]) == sum(want["ranges"].values())


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_killed_rematch_then_rerun_equals_a_clean_one(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    template = _prepared(tmp_path_factory, "world", lambda store: build_world(store, tmp_path))
    args = ["vulns", "match", "-b", BRANCH]
    want = _every_kill(tmp_path_factory, template, args, said="full rematch", min_writes=5)
    statuses = {(name, vuln): status for name, vuln, status, _, _ in want["verdicts"]}
    assert statuses[("squid", "CVE-2025-62168")] == "fixed"  # the world's hand-checked table
    assert statuses[("tukit", "CVE-2099-0001")] == "vulnerable"


def _matched_then_changed(store: Store, tmp: Path) -> None:
    """The world after a full rematch, then a new version of one record (its range now
    ends below the package's version) and a triage decision: the next rematch is an
    incremental one."""
    build_world(store, tmp)
    rematch_branch(store, branch=BRANCH)
    changed = json.loads(json.dumps(SYNTHETIC))
    changed["lastModified"] = "2099-02-01T00:00:00.000"
    match = changed["configurations"][0]["nodes"][0]["cpeMatch"][0]
    match["versionEndIncluding"] = "0.9"
    path = tmp / "CVE-2099-0001-v2.json"
    path.write_text(json.dumps(changed))
    assert load_vulns(store, source="nvd", paths=[path]).written == 1
    record_triage(
        store,
        vuln_id="CVE-2021-36370",
        pkg_name="mc",
        branch=BRANCH,
        status="not_affected",
        author="tester",
        reason="the vulnerable code is not built",
    )


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_killed_incremental_rematch_then_rerun_equals_a_clean_one(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    template = _prepared(
        tmp_path_factory, "changed", lambda store: _matched_then_changed(store, tmp_path)
    )
    args = ["vulns", "match", "-b", BRANCH]
    want = _every_kill(tmp_path_factory, template, args, said="incremental rematch", min_writes=5)
    statuses = {(name, vuln): status for name, vuln, status, _, _ in want["verdicts"]}
    assert statuses[("tukit", "CVE-2099-0001")] == "fixed"  # the new version's range ends below
    assert statuses[("mc", "CVE-2021-36370")] == "not_affected"  # the triage decision


def _errata(home: Path) -> dict[str, Any]:
    """The branch's errata and their change records, ids left out: a killed build's
    claims make the rerun's numbers differ; what must not differ is which errata exist,
    and that each has its one change record."""
    with open_store(f"chdb://{home / 'store'}") as store:
        errata = store.query(
            "SELECT errata_id, eh_type, errata_id_version, pkg_name, eh_references.type "
            "FROM ErrataHistory WHERE pkgset_name = {b:String}",
            {"b": BRANCH},
        )
        changes = store.query("SELECT errata_id, ec_type FROM ErrataChangeHistory")
    kinds = {str(i): str(k) for i, k, *_ in errata}
    return {
        "errata": Counter((k, v, n, tuple(t)) for _, k, v, n, t in errata),
        "changes": Counter((kinds.get(str(i), "missing"), str(c)) for i, c in changes),
        "recorded": sorted(Counter(str(i) for i, _ in changes).values()) == [1] * len(errata)
        and set(kinds) == {str(i) for i, _ in changes},
    }


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_killed_errata_build_then_rerun_gives_each_erratum_its_change_record(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """``vulns errata build`` writes the errata, then their ALT-EC change records; killed
    in between, the rerun found every erratum unchanged and the records were never
    written."""
    template = _prepared(tmp_path_factory, "errata", lambda store: build_world(store, tmp_path))
    args = ["vulns", "errata", "build", "-b", BRANCH]
    clean = _home_from(tmp_path_factory, template, "clean")
    writes = _writes(clean, args, said="1 new")
    want = _errata(clean)
    assert want["recorded"] and sum(want["errata"].values()) == 3  # PU, BU and SA
    for after in range(1, len(writes) + 1):
        home = _home_from(tmp_path_factory, template, f"kill{after}")
        killed = _run(home, args, kill_after=after)
        assert killed.returncode == -signal.SIGKILL, (after, killed.stderr)
        for _ in range(2):  # the rerun, then a run with nothing to do
            again = _run(home, args)
            assert again.returncode == 0, (after, writes[after - 1], again.stderr)
            assert _errata(home) == want, (after, writes[after - 1])
        shutil.rmtree(home)
