"""Errata (reference/altrepo.md §6.2): ids, their allocation, and errata built from changelogs.

Ids are ``<PREFIX>-<YYYY>-<NNNN>-<V>`` (``ALT-PU-2023-2000-2``): the prefix matches
``^ALT-[A-Z]{2,}$``; ``PREFIX-YYYY-NNNN`` names the erratum across versions and ``V``
grows with every change; ids compare by (year, number, version), never by prefix.

Allocation: ALTRepo asks an external errata server; repotrack keeps its own allocator in
the store (``ErrataIdClaims``). A writer claims ``max(number) + 1`` for (prefix, year),
reads the claims of that number back and keeps it only if its claim sorts first by the
server's insert time (nanoseconds) and claim id; otherwise it claims the next number.
Inside one process a lock serialises writers (chDB has one owning process); against a
ClickHouse server the check is re-read once more after a short pause, which closes the
window in which two inserts overlap.

Errata are built from tasks when the branch has task data: one ``ALT-PU`` (``eh_type``
``task``) per (task, subtask) of its DONE tasks, referencing the vulnerabilities and bugs
(``closes: #N``) named by the latest changelog entry of the subtask's source package.
Branches without tasks get one ``ALT-PU`` (``branch``) per source package of the
newest set whose latest changelog entry names CVE ids (for binaries without their
source package, per stand-in: ``set_sources``). One ``ALT-BU`` bulletin
(``bulletin``) per package set
referencing the PU errata of that set; one ``ALT-SA`` security advisory (``advisory``)
per vulnerability the branch's PU errata name, referencing the vulnerability, the PU
errata that fix it and (``eh_json``) their packages; every new erratum or new version
also gets an ``ALT-EC`` change record in ``ErrataChangeHistory``. Re-running changes
nothing unless the references changed, in which case the erratum gets its next version
(an advisory: when another PU erratum, or a new version of one, fixes its vulnerability).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, cast

from repotrack.errors import InputError, NotFoundError
from repotrack.rpm import mmhash
from repotrack.security.set_sources import (
    NVR_NAME,
    NVR_RELEASE,
    NVR_VERSION,
    STAND_IN,
    members,
    stand_ins,
)
from repotrack.store.base import Store
from repotrack.store.branches import stored_branch
from repotrack.store.queries import find_package_set

__all__ = [
    "ErrataBuild",
    "ErrataId",
    "ErrataRecord",
    "allocate_errata_id",
    "branch_errata",
    "build_branch_errata",
]

_PREFIX: Final = re.compile(r"^ALT-[A-Z]{2,}$")
_ID: Final = re.compile(
    r"^(?P<prefix>ALT-[A-Z]{2,})-(?P<year>\d{4})-(?P<number>\d{4,})-(?P<version>\d+)$"
)
_CVE: Final = "CVE-[0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9]+"
FIRST_NUMBER: Final = 1000
RECHECK_SECONDS: Final = 0.05
_LOCK: Final = threading.Lock()


@dataclass(frozen=True, order=False)
class ErrataId:
    """One errata id; ``key`` is what ids compare by (the prefix is not part of it)."""

    prefix: str
    year: int
    number: int
    version: int = 1

    @classmethod
    def parse(cls, text: str) -> ErrataId:
        match = _ID.match(text)
        if match is None:
            raise InputError(
                f"{text!r} is not an errata id like ALT-PU-2023-2000-2", field="errata_id"
            )
        return cls(match["prefix"], int(match["year"]), int(match["number"]), int(match["version"]))

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.year, self.number, self.version)

    @property
    def no_version(self) -> str:
        return f"{self.prefix}-{self.year}-{self.number:04d}"

    def bumped(self) -> ErrataId:
        return ErrataId(self.prefix, self.year, self.number, self.version + 1)

    def __str__(self) -> str:
        return f"{self.no_version}-{self.version}"


def allocate_errata_id(store: Store, *, prefix: str, year: int, owner: str = "") -> ErrataId:
    """A new id (version 1) no other writer holds."""
    if not _PREFIX.match(prefix):
        raise InputError(f"{prefix!r} does not match ^ALT-[A-Z]{{2,}}$", field="prefix")
    with _LOCK:
        ((top,),) = store.query(
            "SELECT max(eic_number) FROM ErrataIdClaims WHERE eic_prefix = {p:String} "
            "AND eic_year = {y:UInt16}",
            {"p": prefix, "y": year},
        )
        number = max(int(top) + 1, FIRST_NUMBER)
        while True:
            claim = uuid.uuid4()
            store.insert(
                "ErrataIdClaims",
                ("eic_prefix", "eic_year", "eic_number", "eic_claim", "eic_owner"),
                [(prefix, year, number, claim, owner)],
            )
            if _won(store, prefix, year, number, claim):
                time.sleep(RECHECK_SECONDS)
                if _won(store, prefix, year, number, claim):
                    return ErrataId(prefix, year, number)
            number += 1


def _won(store: Store, prefix: str, year: int, number: int, claim: uuid.UUID) -> bool:
    rows = store.query(
        "SELECT eic_claim FROM ErrataIdClaims WHERE eic_prefix = {p:String} AND "
        "eic_year = {y:UInt16} AND eic_number = {n:UInt32} ORDER BY ts, eic_claim LIMIT 1",
        {"p": prefix, "y": year, "n": number},
    )
    return bool(rows) and rows[0][0] == claim


# -- errata from changelogs --------------------------------------------------------------

#: The source packages of the set whose latest changelog entry names CVE ids: the set's
#: own, and the stand-ins for sources it lacks (``set_sources``), whose changelog is
#: their binaries' (one build's binaries carry the same; the newest entry is taken).
_STAND_IN_CHANGELOG: Final = stand_ins(
    "root",
    select=f"{STAND_IN} AS pkg_hash, {NVR_NAME} AS pkg_name, {NVR_VERSION} AS pkg_version, "
    f"{NVR_RELEASE} AS pkg_release, argMax(entry_hash, entry_date) AS chlog_hash, "
    "max(entry_date) AS chlog_date",
    read="pkg_changelog.hash[1] AS entry_hash, pkg_changelog.date[1] AS entry_date",
)
_PACKAGES_WITH_CVES: Final = f"""
SELECT P.pkg_hash, P.pkg_name, P.pkg_version, P.pkg_release, P.chlog_date,
    arraySort(arrayDistinct(extractAll(C.text, '{_CVE}'))) AS cves
FROM
(
    SELECT pkg_hash, any(pkg_name) AS pkg_name, any(pkg_version) AS pkg_version,
        any(pkg_release) AS pkg_release, any(pkg_changelog.hash[1]) AS chlog_hash,
        any(pkg_changelog.date[1]) AS chlog_date
    FROM Packages_buffer
    WHERE pkg_sourcepackage = 1 AND notEmpty(pkg_changelog.hash) AND pkg_hash IN {members("root")}
    GROUP BY pkg_hash
    UNION ALL
    {_STAND_IN_CHANGELOG}
) AS P
INNER JOIN
(
    SELECT chlog_hash, any(chlog_text) AS text FROM Changelog_buffer GROUP BY chlog_hash
) AS C ON C.chlog_hash = P.chlog_hash
WHERE notEmpty(cves)
ORDER BY P.pkg_name
"""  # noqa: S608

_CURRENT: Final = """
SELECT errata_id_noversion, argMax(errata_id, errata_id_version),
    argMax(pkg_name, errata_id_version), argMax(pkg_version, errata_id_version),
    argMax(pkg_release, errata_id_version),
    argMax(eh_references.link, errata_id_version), argMax(eh_json, errata_id_version)
FROM ErrataHistory
WHERE pkgset_name = {branch:String} AND eh_type = {kind:String}
GROUP BY errata_id_noversion
"""

#: The errata versions a build wrote whose ALT-EC change record is missing: a build
#: writes its errata, then their change records, and one killed in between left the
#: records unwritten; its rerun finds the errata unchanged and writes nothing for them,
#: so each build writes these records first.
_UNRECORDED: Final = """
SELECT errata_id, errata_id_version FROM ErrataHistory
WHERE pkgset_name = {branch:String} AND eh_source = 'changelog'
    AND errata_id NOT IN (SELECT errata_id FROM ErrataChangeHistory)
ORDER BY errata_id
"""

_COLUMNS: Final = (
    "errata_id", "eh_hash", "eh_type", "eh_source", "eh_created", "eh_updated",
    "eh_references.type", "eh_references.link", "eh_json", "pkg_hash", "pkg_name",
    "pkg_version", "pkg_release", "pkgset_name", "task_id", "subtask_id", "task_state",
)  # fmt: skip


@dataclass(frozen=True)
class ErrataBuild:
    """What one build did: errata written new, bumped to a new version, left as they were."""

    branch: str
    created: list[str]
    updated: list[str]
    unchanged: int
    bulletin: str
    #: ALT-SA advisories written new and bumped to a new version (not in created/updated).
    advisories_created: list[str] = field(default_factory=list)
    advisories_updated: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ErrataRecord:
    """The latest version of one erratum."""

    errata_id: str
    kind: str
    pkg_name: str
    version: str
    release: str
    branch: str
    updated: datetime
    references: list[tuple[str, str]]


_DONE_SUBTASKS: Final = f"""
SELECT T.task_id, T.subtask_id, P.pkg_hash, P.pkg_name, P.pkg_version, P.pkg_release,
    arraySort(arrayDistinct(extractAll(C.text, '{_CVE}'))) AS cves,
    arraySort(arrayDistinct(extractAll(lower(C.text), 'closes:? *#?([0-9]+)'))) AS bugs
FROM
(
    SELECT task_id, subtask_id FROM Tasks_buffer
    WHERE task_repo = {{branch:String}} AND task_id IN
    (
        SELECT task_id FROM TaskStates_buffer GROUP BY task_id
        HAVING argMax(task_state, task_changed) = 'DONE'
    )
    GROUP BY task_id, subtask_id
    HAVING argMax(subtask_deleted, subtask_changed) = 0
) AS T
INNER JOIN
(
    SELECT task_id, subtask_id, argMax(titer_srcrpm_hash, titer_ts) AS srpm
    FROM TaskIterations_buffer GROUP BY task_id, subtask_id
) AS I ON I.task_id = T.task_id AND I.subtask_id = T.subtask_id
INNER JOIN
(
    SELECT pkg_hash, any(pkg_name) AS pkg_name, any(pkg_version) AS pkg_version,
        any(pkg_release) AS pkg_release, any(pkg_changelog.hash[1]) AS chlog_hash
    FROM Packages_buffer WHERE pkg_sourcepackage = 1 GROUP BY pkg_hash
) AS P ON P.pkg_hash = I.srpm
LEFT JOIN
(
    SELECT chlog_hash, any(chlog_text) AS text FROM Changelog_buffer GROUP BY chlog_hash
) AS C ON C.chlog_hash = P.chlog_hash
ORDER BY T.task_id, T.subtask_id
"""  # noqa: S608


@dataclass(frozen=True)
class _Update:
    """One package update an erratum describes."""

    key: tuple[str, ...]
    pkg_hash: int
    name: str
    version: str
    release: str
    refs: list[tuple[str, str]]
    task_id: int = 0
    subtask_id: int = 0


def build_branch_errata(store: Store, *, branch: str, user: str = "repotrack") -> ErrataBuild:
    """Write the PU errata of the branch and the bulletin of its newest set (idempotent).

    With task data for the branch: one ``ALT-PU`` per (task, subtask) of its DONE tasks
    (``eh_type`` ``task``), referencing the vulnerabilities and bugs its package's latest
    changelog entry names. Without: one per source package of the newest set whose
    latest changelog entry names CVE ids (``eh_type`` ``branch``), a stand-in's for
    binaries whose source package the set lacks.
    """
    package_set = find_package_set(store, branch=branch)
    branch = package_set.branch  # as stored (lowercased)
    now = _write_time(store)
    updates, kind = _task_updates(store, branch), "task"
    if not updates:
        updates, kind = _branch_updates(store, package_set.uuid), "branch"
    current = {_key(r, kind): r for r in store.query(_CURRENT, {"branch": branch, "kind": kind})}
    rows: list[tuple[Any, ...]] = []
    changes: list[tuple[str, str]] = []
    created, updated, unchanged, pu_ids = [], [], 0, []
    fixes: list[tuple[_Update, str]] = []  # every update with its current PU id
    for update in updates:
        old = current.get(update.key)
        if old is not None and list(old[5]) == [link for _, link in update.refs]:
            unchanged += 1
            pu_ids.append(str(old[1]))
            fixes.append((update, str(old[1])))
            continue
        if old is None:
            errata = allocate_errata_id(store, prefix="ALT-PU", year=now.year, owner=user)
            created.append(str(errata))
        else:
            errata = ErrataId.parse(str(old[1])).bumped()
            updated.append(str(errata))
        pu_ids.append(str(errata))
        fixes.append((update, str(errata)))
        body = {
            "package": update.name,
            "version": update.version,
            "release": update.release,
            "task": update.task_id,
            "subtask": update.subtask_id,
            "references": [link for _, link in update.refs],
        }
        row = _row(errata, kind, now, update.refs, body, branch, update.pkg_hash, update.name,
                   update.version, update.release)  # fmt: skip
        if kind == "task":
            row = (*row[:14], update.task_id, update.subtask_id, "DONE")
        rows.append(row)
        changes.append((str(errata), "create" if old is None else "update"))
    bulletin = _bulletin(store, branch, package_set.uuid, sorted(pu_ids), now, user, rows, changes)
    advisories = _advisories(store, branch, fixes, now, user, rows, changes)
    # Before this run's own: a build killed between its errata and their change records.
    unrecorded = [
        (str(errata_id), "create" if version == 1 else "update")
        for errata_id, version in store.query(_UNRECORDED, {"branch": branch})
    ]
    if rows:
        store.insert("ErrataHistory", _COLUMNS, rows)
    if unrecorded or changes:
        _change_records(store, unrecorded + changes, now, user)
    return ErrataBuild(branch, created, updated, unchanged, bulletin, *advisories)


def _write_time(store: Store) -> datetime:
    """Now, to the second, or a second after the newest erratum stored if that is later.

    ``eh_updated`` holds seconds, and it is what orders an erratum's versions for the
    ALTRepo API (``get_erratas`` takes the version with the greatest): a version written
    within the same second as the one before tied with it, and the API then listed
    either, or none when the older one was discarded.
    """
    now = datetime.now(UTC).replace(microsecond=0)
    ((stored,),) = store.query("SELECT max(eh_updated) FROM ErrataHistory")
    newest = cast(datetime, stored)
    if newest.tzinfo is None:  # a store that answers in naive UTC
        newest = newest.replace(tzinfo=UTC)
    return max(now, newest + timedelta(seconds=1))


def _key(row: tuple[Any, ...], kind: str) -> tuple[str, ...]:
    if kind == "task":
        body = json.loads(row[6])
        return (str(body.get("task")), str(body.get("subtask")))
    return (str(row[2]), str(row[3]), str(row[4]))


def _task_updates(store: Store, branch: str) -> list[_Update]:
    updates = []
    for task, subtask, pkg_hash, name, version, release, cves, bugs in store.query(
        _DONE_SUBTASKS, {"branch": branch}
    ):
        refs = [("vuln", str(c)) for c in cves] + [("bug", str(b)) for b in bugs]
        updates.append(
            _Update(
                (str(task), str(subtask)),
                int(pkg_hash),
                str(name),
                str(version),
                str(release),
                refs,
                int(task),
                int(subtask),
            )
        )
    return updates


def _branch_updates(store: Store, root: uuid.UUID) -> list[_Update]:
    return [
        _Update(
            (str(n), str(v), str(r)),
            int(h),
            str(n),
            str(v),
            str(r),
            [("vuln", str(c)) for c in cves],
        )
        for h, n, v, r, _, cves in store.query(_PACKAGES_WITH_CVES, {"root": root})
    ]


def _row(
    errata: ErrataId,
    kind: str,
    now: datetime,
    refs: list[tuple[str, str]],
    body: dict[str, Any],
    branch: str,
    pkg_hash: int = 0,
    name: str = "",
    version: str = "",
    release: str = "",
) -> tuple[Any, ...]:
    text = json.dumps({"id": str(errata), "type": kind, **body}, sort_keys=True)
    return (
        str(errata), mmhash(text), kind, "changelog", now, now, [t for t, _ in refs],
        [link for _, link in refs], text, pkg_hash, name, version, release, branch, 0, 0, "",
    )  # fmt: skip


def _bulletin(
    store: Store,
    branch: str,
    root: uuid.UUID,
    pu_ids: list[str],
    now: datetime,
    user: str,
    rows: list[tuple[Any, ...]],
    changes: list[tuple[str, str]],
) -> str:
    """The ALT-BU of this package set: new, bumped when its PU list changed, or as it was."""
    existing = [
        r
        for r in store.query(_CURRENT, {"branch": branch, "kind": "bulletin"})
        if json.loads(r[6]).get("pkgset") == str(root)
    ]
    refs = [("errata", i) for i in pu_ids]
    if existing and list(existing[0][5]) == pu_ids:
        return str(existing[0][1])
    if not pu_ids and not existing:
        return ""
    if existing:
        errata = ErrataId.parse(str(existing[0][1])).bumped()
    else:
        errata = allocate_errata_id(store, prefix="ALT-BU", year=now.year, owner=user)
    rows.append(_row(errata, "bulletin", now, refs, {"pkgset": str(root)}, branch))
    changes.append((str(errata), "update" if existing else "create"))
    return str(errata)


def _advisories(
    store: Store,
    branch: str,
    fixes: list[tuple[_Update, str]],
    now: datetime,
    user: str,
    rows: list[tuple[Any, ...]],
    changes: list[tuple[str, str]],
) -> tuple[list[str], list[str]]:
    """One ALT-SA per vulnerability the branch's PU errata name: new, bumped when the PU
    errata fixing it changed, or as it was. An advisory whose vulnerability no PU names
    any more is left as it was (it still says what was fixed then)."""
    by_vuln: dict[str, list[tuple[_Update, str]]] = {}
    for update, pu_id in fixes:
        for kind, link in update.refs:
            if kind == "vuln":
                by_vuln.setdefault(link, []).append((update, pu_id))
    existing = {
        str(json.loads(r[6]).get("vulnerability")): r
        for r in store.query(_CURRENT, {"branch": branch, "kind": "advisory"})
    }
    created: list[str] = []
    updated: list[str] = []
    for vuln_id in sorted(by_vuln):
        fixed_by = sorted({pu_id: (u, pu_id) for u, pu_id in by_vuln[vuln_id]}.values(),
                          key=lambda f: ErrataId.parse(f[1]).key)  # fmt: skip
        refs = [("vuln", vuln_id)] + [("errata", pu_id) for _, pu_id in fixed_by]
        old = existing.get(vuln_id)
        if old is not None and list(old[5]) == [link for _, link in refs]:
            continue
        if old is None:
            errata = allocate_errata_id(store, prefix="ALT-SA", year=now.year, owner=user)
            created.append(str(errata))
        else:
            errata = ErrataId.parse(str(old[1])).bumped()
            updated.append(str(errata))
        body = {
            "vulnerability": vuln_id,
            "packages": [
                {"name": u.name, "version": u.version, "release": u.release, "errata": pu_id}
                for u, pu_id in fixed_by
            ],
        }
        rows.append(_row(errata, "advisory", now, refs, body, branch))
        changes.append((str(errata), "create" if old is None else "update"))
    return created, updated


def _change_records(store: Store, changes: list[tuple[str, str]], now: datetime, user: str) -> None:
    transaction = uuid.uuid4()
    records = []
    for errata_id, kind in changes:
        ec = allocate_errata_id(store, prefix="ALT-EC", year=now.year, owner=user)
        reason = json.dumps({"action": kind, "source": "changelog"})
        records.append(
            (
                str(ec),
                now,
                now,
                user,
                "",
                reason,
                kind,
                "changelog",
                "repotrack",
                errata_id,
                transaction,
            )
        )
    store.insert(
        "ErrataChangeHistory",
        ("ec_id", "ec_created", "ec_updated", "ec_user", "ec_user_ip", "ec_reason", "ec_type",
         "ec_source", "ec_origin", "errata_id", "transaction_id"),
        records,
    )  # fmt: skip


def branch_errata(store: Store, *, branch: str, start: date, end: date) -> list[ErrataRecord]:
    """The latest version of each erratum of ``branch`` updated between two UTC days.

    An erratum whose latest version was discarded is left out, not listed at the
    version before it: as the ALTRepo API lists errata (``get_erratas``), and as a
    verdict reads them (``verdict.py``).
    """
    if end < start:
        raise InputError("the end day is before the start day", field="to")
    branch = stored_branch(store, branch)
    rows = store.query(
        "SELECT argMax(errata_id, errata_id_version) AS latest, "
        "argMax(eh_type, errata_id_version), "
        "argMax(pkg_name, errata_id_version), argMax(pkg_version, errata_id_version), "
        "argMax(pkg_release, errata_id_version), max(eh_updated) AS updated, "
        "argMax(eh_references.type, errata_id_version), "
        "argMax(eh_references.link, errata_id_version) "
        "FROM ErrataHistory WHERE pkgset_name = {b:String} "
        "GROUP BY errata_id_noversion "
        "HAVING toDate(updated) BETWEEN {s:Date} AND {e:Date} "
        "AND latest NOT IN (SELECT errata_id FROM last_discarded_erratas) "
        "ORDER BY updated, 1",
        {"b": branch, "s": start, "e": end},
    )
    if not rows:  # none at all reads as "nothing fixed then"; a build writes a bulletin
        ((built,),) = store.query(
            "SELECT count() > 0 FROM ErrataHistory WHERE pkgset_name = {b:String}", {"b": branch}
        )
        if not built:
            raise NotFoundError(
                f"no errata of {branch} were built: run `repotrack vulns errata build -b {branch}`"
            )
    return [
        ErrataRecord(
            str(i), str(k), str(n), str(v), str(r), branch, u, list(zip(t, links, strict=True))
        )
        for i, k, n, v, r, u, t, links in rows
    ]
