"""``load beehive`` (§5.2): one status row per package beehive built, per branch and arch.

Order of work for one (branch, arch):

1. the mtime of ``logs/<Branch>/<arch>/latest`` in the listing, set to 12:00 of its
   day in the source zone (ALTRepo's convention), is the run's ``bh_updated``;
2. skip when that equals ``max(bh_updated)`` already stored for the pair;
3. read ``time.list``, the ``error/`` and ``success/`` listings and ``ftbfs-since``;
4. take package hashes from the newest snapshot of the branch dated on or before
   that day. (The original looked for a snapshot dated exactly at noon, which never
   exists because snapshots are dated at midnight, and fell back to "the newest
   before"; the fallback is the rule here.) A version the snapshot does not have is
   looked up among the source packages built by the branch's tasks (``Tasks``,
   ``TaskIterations``), as the original did; a package found in neither gets
   ``pkg_hash`` 0 and is counted in the note;
5. insert one row per ``time.list`` entry in one statement (``insert_snapshot``):
   step 2 trusts the stored ``bh_updated``, so a (branch, arch) must be stored whole
   or not at all, or a run killed part-way would leave a partial list that every
   later run calls "already loaded". An entry in neither the error nor the success
   listing, or counts that do not add up, is reported and the run goes on (the
   original stopped with a ``break``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TypeVar

from repotrack.errors import NotFoundError
from repotrack.ingest.feeds.result import FeedResult
from repotrack.ingest.feeds.snapshots import insert_snapshot
from repotrack.ingest.feeds.source import Entry, FeedSource
from repotrack.sources.feeds import (
    BuildTime,
    Nvr,
    Parsed,
    Problem,
    parse_ftbfs_since,
    parse_nvr,
    parse_time_list,
)
from repotrack.store import Store, find_package_set

__all__ = ["BEEHIVE_COLUMNS", "load_beehive"]

BEEHIVE_COLUMNS = (
    "pkg_hash",
    "pkg_name",
    "pkg_version",
    "pkg_release",
    "pkgset_name",
    "bh_arch",
    "bh_status",
    "bh_build_time",
    "bh_updated",
    "bh_ftbfs_since",
)

T = TypeVar("T")


def load_beehive(
    store: Store, source: FeedSource, *, branches: Iterable[str], arches: Iterable[str]
) -> FeedResult:
    result = FeedResult("beehive")
    notes: list[str] = []
    for branch in branches:
        for arch in arches:
            note = _load_one(store, source, branch=branch, arch=arch, result=result)
            if note:
                notes.append(f"{branch.lower()}/{arch}: {note}")
    result.note = "; ".join(notes)
    return result


@dataclass(frozen=True)
class _Run:
    """What one (branch, arch) run read: build times, the two listings, ftbfs dates."""

    times: list[BuildTime]
    failed: set[Nvr]
    built: set[Nvr]
    since: dict[str, int]


def _load_one(
    store: Store, source: FeedSource, *, branch: str, arch: str, result: FeedResult
) -> str:
    logs = f"logs/{branch}/{arch}"
    latest = next((e for e in source.listing(logs) if e.name == "latest"), None)
    if latest is None or latest.mtime is None:
        result.add_problems([Problem(source.where(logs), 0, "no 'latest' entry with a time")])
        return "skipped"
    updated = _noon(latest, source)
    pkgset = branch.lower()
    if updated == _stored_update(store, pkgset, arch):
        return f"already loaded for {updated:%Y-%m-%d}"
    run = _read_run(source, branch=branch, arch=arch, result=result)
    hashes = _snapshot_hashes(store, pkgset, updated.date())
    missing = [t.nvr for t in run.times if (t.nvr.name, t.nvr.version, t.nvr.release) not in hashes]
    hashes.update(_task_hashes(store, pkgset, missing))
    rows = []
    for entry in run.times:
        status = _status(entry.nvr, run)
        if status is None:
            problem = f"{_nvr_text(entry.nvr)} is in neither error/ nor success/"
            result.add_problems([Problem(source.where(f"{logs}/latest/time.list"), 0, problem)])
            continue
        ftbfs = updated
        if status == "error" and entry.nvr.name in run.since:
            ftbfs = datetime.fromtimestamp(run.since[entry.nvr.name], UTC)
        key = (entry.nvr.name, entry.nvr.version, entry.nvr.release)
        rows.append((hashes.get(key, 0), *key, pkgset, arch, status, entry.seconds, updated, ftbfs))
    result.rows += insert_snapshot(store, "BeehiveStatus", BEEHIVE_COLUMNS, rows)
    unknown = sum(1 for row in rows if row[0] == 0)
    return f"{unknown} packages not in the snapshot" if unknown else ""


def _read_run(source: FeedSource, *, branch: str, arch: str, result: FeedResult) -> _Run:
    latest = f"logs/{branch}/{arch}/latest"
    run = _Run(
        times=_parsed(source, f"{latest}/time.list", parse_time_list, result),
        failed={parse_nvr(e.name) for e in source.listing(f"{latest}/error") if not e.is_dir},
        built={parse_nvr(e.name) for e in source.listing(f"{latest}/success") if not e.is_dir},
        since=dict(
            _parsed(source, f"stats/{branch}/{arch}/ftbfs-since", parse_ftbfs_since, result)
        ),
    )
    listed = len(run.failed) + len(run.built)
    if len(run.times) != listed:
        message = f"time.list has {len(run.times)} entries, error/ and success/ {listed}"
        result.add_problems([Problem(source.where(latest), 0, message)])
    return run


def _status(nvr: Nvr, run: _Run) -> str | None:
    if nvr in run.built:
        return "success"
    return "error" if nvr in run.failed else None


def _nvr_text(nvr: Nvr) -> str:
    return "-".join(part for part in (nvr.name, nvr.version, nvr.release) if part)


def _noon(latest: Entry, source: FeedSource) -> datetime:
    assert latest.mtime is not None
    local = latest.mtime.astimezone(source.zone)
    return local.replace(hour=12, minute=0, second=0, microsecond=0).astimezone(UTC)


def _stored_update(store: Store, pkgset: str, arch: str) -> datetime | None:
    rows = store.query(
        "SELECT max(bh_updated), count() FROM BeehiveStatus "
        "WHERE pkgset_name = {p:String} AND bh_arch = {a:String}",
        {"p": pkgset, "a": arch},
    )
    latest, count = rows[0]
    return latest if count else None


def _parsed(
    source: FeedSource, rel: str, parse: Callable[..., Parsed[T]], result: FeedResult
) -> list[T]:
    document = source.document(rel)
    if document is None:
        return []
    parsed = parse(document.text(), source=source.where(rel))
    result.add_problems(parsed.problems)
    return list(parsed.records)


def _snapshot_hashes(store: Store, pkgset: str, day: date) -> dict[tuple[str, str, str], int]:
    """Source packages of the newest snapshot of ``pkgset`` on or before ``day``."""
    try:
        root = find_package_set(store, branch=pkgset, day=day)
    except NotFoundError:
        return {}
    rows = store.query(
        "SELECT pkg_name, pkg_version, pkg_release, pkg_hash FROM Packages_buffer "
        "WHERE pkg_sourcepackage = 1 AND pkg_hash IN (SELECT pkg_hash FROM PackageSet_buffer "
        "WHERE pkgset_uuid IN (SELECT pkgset_uuid FROM PackageSetName "
        "WHERE pkgset_ruuid = {root:UUID}))",
        {"root": root.uuid},
    )
    return {(name, version, release): int(h) for name, version, release, h in rows}


def _task_hashes(store: Store, pkgset: str, nvrs: list[Nvr]) -> dict[tuple[str, str, str], int]:
    """Source packages with these NVRs that a task of ``pkgset`` built."""
    keys = [_nvr_text(n) for n in nvrs if n.version]
    if not keys:
        return {}
    rows = store.query(
        "SELECT pkg_name, pkg_version, pkg_release, max(pkg_hash) FROM Packages_buffer "
        "WHERE pkg_sourcepackage = 1 "
        "AND concat(pkg_name, '-', pkg_version, '-', pkg_release) IN {keys:Array(String)} "
        "AND pkg_hash IN (SELECT titer_srcrpm_hash FROM TaskIterations_buffer WHERE task_id IN "
        "(SELECT task_id FROM Tasks_buffer WHERE task_repo = {p:String})) "
        "GROUP BY pkg_name, pkg_version, pkg_release",
        {"keys": keys, "p": pkgset},
    )
    return {(name, version, release): int(h) for name, version, release, h in rows}
