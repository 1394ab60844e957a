"""After random changes, an incremental rematch leaves what a full one leaves, row by row.

A generated world (source packages with versions of every shape, most mapped to a CPE;
vulnerabilities whose ranges are of every kind §6.3 knows: open, closed, exact, free-text
bounds, vendor not-affected statements; changelogs and spec patches naming some of them)
is matched in full once. Then, round after round, random changes are made: records get
new versions with other ranges, are rejected and come back, triage rows are recorded,
errata are built, and the branch gets a new snapshot (packages updated with a changelog
naming a CVE, removed, added). Each round runs two incremental rematches, each after its
own changes, then compares the three result tables with a full rematch of the same state
(``test_incremental.snapshot``). The seeds are fixed, so a failure is reproducible.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from repotrack.ingest.vulns import CPM_COLUMNS, VULN_COLUMNS, cpe_match_row
from repotrack.rpm import changelog_hash, mmhash
from repotrack.security import record_triage, rematch_branch, set_mapping
from repotrack.security.errata import build_branch_errata
from repotrack.sources.vulns import AffectedRange
from repotrack.store import Store
from tests.unit.security.test_incremental import snapshot
from tests.unit.security.world import DAY
from tests.unit.store.rows import load_branch_snapshot, package

BRANCH = "c10f1"
PACKAGES = 30
VULNS = 24
#: Names that join the branch in later snapshots; mapped from the start (a mapping
#: change makes the next rematch a full one, which would test nothing).
FUTURE = 12


def cpe(product: int) -> str:
    return f"cpe:2.3:a:vendor{product % 7}:product{product}:*:*:*:*:*:*:*:*"


def version(rng: random.Random) -> str:
    shape = rng.random()
    base = f"{rng.randint(0, 3)}.{rng.randint(0, 4)}"
    if shape < 0.6:
        return base
    if shape < 0.7:
        return f"{base}~rc{rng.randint(1, 2)}"
    if shape < 0.8:
        return f"{base}^git{rng.randint(1, 3)}"
    if shape < 0.9:
        return f"{base}.{rng.choice('abc')}"
    return f"2024{rng.randint(1, 12):02d}01"


def affected(rng: random.Random, product: int) -> AffectedRange:
    criteria, shape = cpe(product), rng.random()
    if shape < 0.3:
        return AffectedRange(criteria, end=version(rng), end_excluded=rng.random() < 0.5)
    if shape < 0.5:
        exact = version(rng)
        return AffectedRange(criteria, start=exact, end=exact)
    if shape < 0.7:
        low, high = sorted((version(rng), version(rng)))
        return AffectedRange(
            criteria, start=low, start_excluded=rng.random() < 0.3, end=high, end_excluded=True
        )
    if shape < 0.8:
        return AffectedRange(criteria)  # every version
    if shape < 0.9:
        return AffectedRange(criteria, start="before 2.0", end="see advisory", unknown=True)
    return AffectedRange(criteria, end=version(rng), not_affected=True)


class World:
    """The generated branch and records, and the random changes made to them."""

    def __init__(self, store: Store, seed: int) -> None:
        self.store, self.rng = store, random.Random(seed)
        self.generation, self.day, self.next_hash = 0, 0, 5000
        # name -> (pkg_hash, version); products are the package numbers.
        self.packages: dict[str, tuple[int, str]] = {}
        self.vuln_ids = [f"CVE-2031-{n:04d}" for n in range(VULNS)]

    # -- the world ------------------------------------------------------------------

    def build(self) -> None:
        for n in range(PACKAGES + FUTURE):
            if n % 5:  # every fifth package has no mapping
                set_mapping(self.store, pkg_name=f"p{n}", result=cpe(n), user="t", reason="r")
        self.packages = {f"p{n}": (100 + n, version(self.rng)) for n in range(PACKAGES)}
        self.write_records(self.vuln_ids)
        specs = []
        for name in self.rng.sample(sorted(self.packages), 4):
            pkg_hash, ver = self.packages[name]
            cve = self.rng.choice(self.vuln_ids)
            specs.append(
                (pkg_hash, name, 0, ver, "alt1", f"{name}.spec", DAY,
                 f"Name: {name}\nPatch0: {name}-build.patch\nPatch1: {name}-{cve}.patch\n")
            )  # fmt: skip
        self.store.insert(
            "Specfiles_buffer",
            ("pkg_hash", "pkg_name", "pkg_epoch", "pkg_version", "pkg_release", "specfile_name",
             "specfile_date", "specfile_content"),
            specs,
        )  # fmt: skip
        self.write_snapshot(changelogs=set(self.rng.sample(sorted(self.packages), 5)))

    def write_records(self, ids: list[str], *, rejected: bool = False) -> None:
        self.generation += 1
        vulns: list[tuple[Any, ...]] = []
        ranges: list[tuple[Any, ...]] = []
        for vuln_id in ids:
            vuln_hash = mmhash(f"{vuln_id}/{self.generation}")
            vulns.append((vuln_id, vuln_hash, "CVE", "generated", 5.0, "MEDIUM", "", DAY, DAY,
                          "{}", [], [], int(rejected), "nvd"))  # fmt: skip
            seen: set[int] = set()
            for _ in range(self.rng.randint(1, 4)):
                product = self.rng.randrange(PACKAGES + FUTURE + 4)  # some map to nothing
                row = cpe_match_row(vuln_id, vuln_hash, affected(self.rng, product))
                if row[2] not in seen:
                    seen.add(row[2])
                    ranges.append(row)
        self.store.insert("CpeMatch", CPM_COLUMNS, ranges)
        self.store.insert("Vulnerabilities", VULN_COLUMNS, vulns)

    def write_snapshot(self, changelogs: set[str]) -> None:
        """The branch's next snapshot; ``changelogs`` packages name a random CVE in theirs."""
        self.day += 1
        sources, texts = [], []
        for name, (pkg_hash, ver) in sorted(self.packages.items()):
            entries = []
            if name in changelogs:
                text = f"- {ver}-alt1: fix {self.rng.choice(self.vuln_ids)} ({name})."
                texts.append((changelog_hash(text), text))
                entries = [(DAY, "M <m@example.org>", f"{ver}-alt1", changelog_hash(text))]
            sources.append(package(pkg_hash, name, ver, source=True, changelog=entries))
        self.store.insert("Changelog_buffer", ("chlog_hash", "chlog_text"), texts)
        load_branch_snapshot(self.store, BRANCH, DAY + timedelta(days=self.day), sources, [])

    # -- random changes -------------------------------------------------------------

    def change(self) -> str:
        kind = self.rng.choice(["records", "records", "reject", "triage", "snapshot", "errata"])
        if kind == "records":
            self.write_records(self.rng.sample(self.vuln_ids, self.rng.randint(1, 6)))
        elif kind == "reject":
            self.write_records([self.rng.choice(self.vuln_ids)], rejected=True)
        elif kind == "triage":
            record_triage(
                self.store,
                vuln_id=self.rng.choice(self.vuln_ids),
                pkg_name=self.rng.choice(sorted(self.packages)),
                branch=self.rng.choice([BRANCH, "*"]),
                status=self.rng.choice(["not_affected", "fixed", "vulnerable", "unknown"]),
                author="tester",
            )
        elif kind == "snapshot":
            self.new_snapshot()
        else:
            build_branch_errata(self.store, branch=BRANCH, user="tester")
        return kind

    def new_snapshot(self) -> None:
        names = sorted(self.packages)
        updated = self.rng.sample(names, 3)
        for name in updated:
            self.next_hash += 1
            self.packages[name] = (self.next_hash, version(self.rng))
        for name in self.rng.sample([n for n in names if n not in updated], 2):
            del self.packages[name]
        absent = [f"p{n}" for n in range(PACKAGES + FUTURE) if f"p{n}" not in self.packages]
        for name in self.rng.sample(absent, min(2, len(absent))):
            self.next_hash += 1
            self.packages[name] = (self.next_hash, version(self.rng))
        self.write_snapshot(changelogs=set(updated[:2]))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_equals_full_after_random_changes(store: Store, seed: int) -> None:
    world = World(store, seed)
    world.build()
    assert rematch_branch(store, branch=BRANCH).kind == "full"
    done: list[str] = []
    for _ in range(3):
        for _ in range(2):
            done.append(world.change())
            assert rematch_branch(store, branch=BRANCH).kind == "incremental", done
        incremental = snapshot_of(store)
        assert rematch_branch(store, branch=BRANCH, full=True).kind == "full"
        full = snapshot_of(store)
        for table, rows in full.items():
            assert incremental[table] == rows, (table, done)
    statuses = {row[5] for row in full["PackagesVulnerabilityVerdict"]}
    assert {"vulnerable", "fixed", "not_affected"} <= statuses, statuses


def snapshot_of(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """``test_incremental.snapshot`` for this test's branch."""
    return snapshot(store, BRANCH)
