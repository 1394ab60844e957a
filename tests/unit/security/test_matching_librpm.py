"""The matcher's answers checked against librpm, pair by pair.

The other matching tests compare the matcher with hand-checked verdicts or with itself
(incremental against full). Here the judge is outside the project: a generated branch
(epochs, versions and releases of every shape rpm orders in its own way: ``~``, ``^``,
letters, leading zeros, other separators) and generated ranges (NVD-style version
bounds of every kind, OSV-style whole-EVR bounds, exclusive and inclusive ends, free-text
bounds, vendor not-affected statements) are matched by ``rematch_branch``; the expected
position of each package in each range is then worked out from ``rpm.labelCompare``
(Debian's python3-rpm), following ALTRepo §6.3 as ``matching.py`` states it. Every
``PackagesCveMatch`` row and every verdict must agree, after a full rematch and after an
incremental one over changed records. A range whose bounds write no epoch compares them
with the package's epoch (vuln-formats.md §9). Only the upstream (librpm) order has an
outside judge here; ALT's order has none on this machine.
"""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

import pytest

from repotrack.ingest.vulns import CPM_COLUMNS, VULN_COLUMNS, cpe_match_row
from repotrack.rpm import mmhash, parse_evr
from repotrack.security import rematch_branch, set_mapping
from repotrack.sources.vulns import AffectedRange
from repotrack.store import Store
from tests.unit.rpm.librpm import label_compare
from tests.unit.security.world import DAY
from tests.unit.store.rows import load_branch_snapshot, package

BRANCH = "oracle"
PACKAGES = 40
VULNS = 30

#: Versions drawn for packages and bounds alike, so that equal and nearly equal pairs
#: (``1.01``/``1.1``, ``1.0``/``1_0``, ``1.0``/``1.0.0``) are common.
VERSIONS = (
    "1.0", "1.0.0", "1_0", "1.01", "1.1", "1.1.1", "1.10", "1.9", "1.0~rc1", "1.0~rc2",
    "1.0~~", "1.0^git1", "1.0^", "1.0.1~beta", "1.0a", "1.0.a", "1.a", "2.0", "2", "2.0b",
    "10", "0.9.9", "20240101", "1.0+dfsg", "1.0.z", "1.0.Z", "001.2", "1.2",
)  # fmt: skip
RELEASES = ("alt1", "alt1.1", "alt2", "1.el8", "2.fc22", "alt0.1", "1", "10")


def cpe(product: int) -> str:
    return f"cpe:2.3:a:vendor{product % 5}:product{product}:*:*:*:*:*:*:*:*"


def osv(product: int) -> str:
    return f"osv:Oracle:1/product{product}"


class World:
    """The generated branch and records, and what librpm says of them."""

    def __init__(self, store: Store, seed: int) -> None:
        self.store, self.rng = store, random.Random(seed)
        # name -> (pkg_hash, epoch, version, release)
        self.packages: dict[str, tuple[int, int, str, str]] = {}
        # vuln_id -> (vuln_hash, [(cpe_hash, range)])
        self.records: dict[str, tuple[int, list[tuple[int, AffectedRange]]]] = {}
        self.generation = 0

    def build(self) -> None:
        rng = self.rng
        for n in range(PACKAGES):
            name = f"product{n}"
            if n % 4 != 3:
                set_mapping(self.store, pkg_name=name, result=cpe(n), user="t", reason="r")
            if n % 3 == 0:
                set_mapping(self.store, pkg_name=name, result=osv(n), user="t", reason="r")
            epoch = rng.choice((0, 0, 0, 1, 2))
            self.packages[name] = (1000 + n, epoch, rng.choice(VERSIONS), rng.choice(RELEASES))
        sources = [
            package(pkg_hash, name, version, release, epoch=epoch, source=True)
            for name, (pkg_hash, epoch, version, release) in self.packages.items()
        ]
        load_branch_snapshot(self.store, BRANCH, DAY, sources, [])
        self.write_records([f"CVE-2032-{n:04d}" for n in range(VULNS)])

    def evr(self) -> str:
        """An OSV-style bound: a whole EVR, with or without epoch and release."""
        rng = self.rng
        version = rng.choice(VERSIONS)
        epoch = rng.choice(("", "", "0:", "1:", "2:"))
        release = rng.choice(("", *(f"-{r}" for r in RELEASES)))
        if not epoch and not release:
            release = f"-{rng.choice(RELEASES)}"  # else it would be a version bound
        return f"{epoch}{version}{release}"

    def affected(self) -> AffectedRange:
        rng = self.rng
        product = rng.randrange(PACKAGES + 3)  # a few name no package
        if rng.random() < 0.3:
            criteria, bound = osv(product), self.evr
        else:
            criteria, bound = cpe(product), lambda: rng.choice(VERSIONS)
        shape = rng.random()
        if shape < 0.25:
            return AffectedRange(criteria, end=bound(), end_excluded=rng.random() < 0.6)
        if shape < 0.4:
            exact = bound()
            return AffectedRange(criteria, start=exact, end=exact)
        if shape < 0.65:
            return AffectedRange(
                criteria,
                start=bound(),
                start_excluded=rng.random() < 0.3,
                end=bound(),
                end_excluded=rng.random() < 0.6,
            )
        if shape < 0.75:
            return AffectedRange(criteria, start=bound(), start_excluded=rng.random() < 0.3)
        if shape < 0.8:
            return AffectedRange(criteria)  # every version
        if shape < 0.87:
            return AffectedRange(criteria, start="before 2.0", end="see advisory", unknown=True)
        if shape < 0.93:
            return AffectedRange(criteria, end=bound(), not_affected=True)
        return AffectedRange(criteria, start="-")  # NVD's "not applicable": never matched

    def write_records(self, ids: list[str]) -> None:
        self.generation += 1
        vulns: list[tuple[Any, ...]] = []
        rows: list[tuple[Any, ...]] = []
        for vuln_id in ids:
            vuln_hash = mmhash(f"{vuln_id}/{self.generation}")
            vulns.append((vuln_id, vuln_hash, "CVE", "generated", 5.0, "MEDIUM", "", DAY, DAY,
                          "{}", [], [], 0, "nvd"))  # fmt: skip
            kept: dict[int, AffectedRange] = {}
            for _ in range(self.rng.randint(1, 6)):
                found = self.affected()
                row = cpe_match_row(vuln_id, vuln_hash, found)
                if row[2] not in kept:
                    kept[row[2]] = found
                    rows.append(row)
            self.records[vuln_id] = (vuln_hash, list(kept.items()))
        self.store.insert("CpeMatch", CPM_COLUMNS, rows)
        self.store.insert("Vulnerabilities", VULN_COLUMNS, vulns)

    # -- what librpm says ---------------------------------------------------------------

    def expected(self) -> tuple[set[tuple[Any, ...]], dict[tuple[str, str], tuple[str, str]]]:
        """The ``PackagesCveMatch`` rows (package, vulnerability, range, in range) and the
        verdicts ((package, vulnerability) → (status, reason)) librpm's order gives."""
        pairs: list[tuple[str, str, int, AffectedRange]] = []
        for vuln_id, (_, ranges) in self.records.items():
            for cpe_hash, found in ranges:
                if found.start == "-":
                    continue
                for name in self.packages:
                    if found.criteria in self.criteria_of(name):
                        pairs.append((name, vuln_id, cpe_hash, found))
        positions = self.positions(pairs)
        matches = {
            (self.packages[name][0], vuln_id, cpe_hash, int(position == 0))
            for (name, vuln_id, cpe_hash, _), position in zip(pairs, positions, strict=True)
        }
        found_positions: dict[tuple[str, str], set[int]] = defaultdict(set)
        for (name, vuln_id, _, _), position in zip(pairs, positions, strict=True):
            found_positions[name, vuln_id].add(position)
        verdicts = {
            pair: verdict
            for pair, seen in found_positions.items()
            if (verdict := _verdict(seen)) is not None
        }
        return matches, verdicts

    def criteria_of(self, name: str) -> set[str]:
        n = int(name.removeprefix("product"))
        return ({cpe(n)} if n % 4 != 3 else set()) | ({osv(n)} if n % 3 == 0 else set())

    def positions(self, pairs: list[tuple[str, str, int, AffectedRange]]) -> list[int]:
        """§6.3's position of each package in each range: -1 below, 0 in, 1 above, 2 bounds
        that are no version, 3 in a not-affected statement, 4 outside one (no evidence)."""
        comparisons: list[tuple[Any, Any]] = []
        wanted: list[tuple[int | None, int | None]] = []
        for name, _, _, found in pairs:
            _, epoch, version, release = self.packages[name]
            evr_kind = found.criteria.startswith("osv:")
            mine = (str(epoch), version, release) if evr_kind else ("0", version, None)
            # Bounds that write no epoch at all take the package's (vuln-formats.md §9).
            unwritten = str(epoch) if ":" not in found.start + found.end else "0"
            indexes: list[int | None] = []
            for bound in (found.start, found.end):
                if not bound or found.unknown:
                    indexes.append(None)
                    continue
                if evr_kind:
                    b_epoch, b_version, b_release = parse_evr(bound)
                    theirs = (b_epoch or unwritten, b_version, b_release)
                else:
                    theirs = ("0", bound, None)
                indexes.append(len(comparisons))
                comparisons.append((mine, theirs))
            wanted.append((indexes[0], indexes[1]))
        results = label_compare(comparisons)
        out = []
        for (_, _, _, found), (start, end) in zip(pairs, wanted, strict=True):
            outside = 4 if found.not_affected else None
            if found.unknown:
                out.append(4 if found.not_affected else 2)
            elif start is not None and results[start] < (1 if found.start_excluded else 0):
                out.append(outside if outside is not None else -1)
            elif end is not None and results[end] > (-1 if found.end_excluded else 0):
                out.append(outside if outside is not None else 1)
            else:
                out.append(3 if found.not_affected else 0)
        return out


def _verdict(positions: set[int]) -> tuple[str, str] | None:
    """The verdict rules 2 and 4-7 of ``verdict.py`` for range evidence alone."""
    for position, verdict in (
        (3, ("not_affected", "vex")),
        (0, ("vulnerable", "range")),
        (2, ("unknown", "unknown_bounds")),
        (1, ("fixed", "newer_version")),
        (-1, ("not_affected", "before_range")),
    ):
        if position in positions:
            return verdict
    return None  # only outside not-affected statements: no evidence either way


def stored(store: Store, world: World) -> tuple[set[tuple[Any, ...]], dict[Any, Any]]:
    """The matches of the current records and the latest verdicts, as ``expected`` has them."""
    current = {vuln_id: vuln_hash for vuln_id, (vuln_hash, _) in world.records.items()}
    matches = {
        (int(pkg_hash), vuln_id, int(cpe_hash), int(in_range))
        for pkg_hash, vuln_id, vuln_hash, cpe_hash, in_range in store.query(
            "SELECT pkg_hash, vuln_id, vuln_hash, cpm_version_hash, is_vulnerable "
            "FROM PackagesCveMatch"
        )
        if current.get(vuln_id) == vuln_hash
    }
    verdicts = {
        (pkg_name, vuln_id): (status, reason)
        for pkg_name, vuln_id, status, reason in store.query(
            "SELECT pkg_name, vuln_id, argMax(pvv_status, ts), argMax(pvv_reason, ts) "
            "FROM PackagesVulnerabilityVerdict WHERE pkgset_name = {b:String} "
            "GROUP BY pkg_name, vuln_id",
            {"b": BRANCH},
        )
        if reason != "unmatched"
    }
    return matches, verdicts


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_matches_and_verdicts_follow_librpm(store: Store, seed: int) -> None:
    world = World(store, seed)
    world.build()
    assert rematch_branch(store, branch=BRANCH).kind == "full"
    _agree(store, world)
    changed = world.rng.sample(sorted(world.records), 10)
    world.write_records(changed)
    assert rematch_branch(store, branch=BRANCH).kind == "incremental"
    _agree(store, world)


def _agree(store: Store, world: World) -> None:
    expected_matches, expected_verdicts = world.expected()
    matches, verdicts = stored(store, world)
    assert len(expected_matches) > 50  # the world is not trivially small
    assert {status for status, _ in expected_verdicts.values()} >= {
        "vulnerable",
        "fixed",
        "not_affected",
    }
    assert sorted(matches - expected_matches) == [], "rows librpm does not give"
    assert sorted(expected_matches - matches) == [], "rows librpm gives and the store lacks"
    wrong = {
        pair: (verdicts.get(pair), verdict)
        for pair, verdict in expected_verdicts.items()
        if verdicts.get(pair) != verdict
    }
    assert wrong == {}, "(stored, librpm's)"
    assert set(verdicts) == set(expected_verdicts)
