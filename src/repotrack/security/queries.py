"""Read-only questions over the verdicts (CLI ``repotrack vulns ...`` and ``/api/v1/vulns``).

Every answer reads the latest verdict per (branch, package, vulnerability) and skips
pairs a later rematch no longer found (reason ``unmatched``). A question about one
vulnerability also takes the verdicts of the records that name it: distribution
advisories (``ALSA-…``, ``RHSA-…``, ``SUSE-SU-…``, ``REDHAT:CVE-…``) carry their CVEs
as references, and a team that loads only its vendor's advisories asks by CVE id.
A question about a BDU record (FSTEC's, which carries no ranges, only the CVEs it
names) is answered for those CVEs, as the ALTRepo API answers it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from repotrack.errors import InputError, NotFoundError
from repotrack.security.set_sources import SOURCE_NVR, members
from repotrack.security.verdict import evidence_key
from repotrack.store.base import Store
from repotrack.store.branches import branch_name, stored_branch

__all__ = [
    "BDU_CVES",
    "BUILT_FROM",
    "NAMING",
    "STATUS_FILTERS",
    "BranchFix",
    "Evidence",
    "FixedPackage",
    "Verdict",
    "VulnerabilityInfo",
    "branch_verdicts",
    "fixed_across_branches",
    "last_packages_with_cve_fixed",
    "matched_branch",
    "package_verdicts",
    "vulnerability_info",
    "vulnerability_verdicts",
]

_LATEST: Final = """
    SELECT pkgset_name, pkg_name, vuln_id, argMax(pkg_hash, ts) AS pkg_hash,
        argMax(pkg_version, ts) AS version, argMax(pkg_release, ts) AS release,
        argMax(pvv_status, ts) AS status, argMax(pvv_reason, ts) AS reason,
        argMax(pvv_evidence.kind, ts) AS kinds, argMax(pvv_evidence.ref, ts) AS refs,
        argMax(pvv_evidence.detail, ts) AS details, argMax(pvv_since, ts) AS updated
    FROM PackagesVulnerabilityVerdict
    WHERE ({branch:String} = '' OR pkgset_name = {branch:String})
        AND ({name:String} = '' OR pkg_name = {name:String})
        AND (empty({vulns:Array(String)}) OR vuln_id IN {vulns:Array(String)})
    GROUP BY pkgset_name, pkg_name, vuln_id
"""

_VERDICTS: Final = f"""
    SELECT L.pkgset_name, L.pkg_name, L.pkg_hash, L.version, L.release, L.vuln_id, L.status,
        L.reason, L.kinds, L.refs, L.details, L.updated, V.summary, V.score, V.severity
    FROM ({_LATEST}) AS L
    LEFT JOIN
    (
        SELECT vuln_id, argMax(vuln_summary, ts) AS summary, argMax(vuln_score, ts) AS score,
            argMax(vuln_severity, ts) AS severity
        FROM Vulnerabilities
        WHERE empty({{vulns:Array(String)}}) OR vuln_id IN {{vulns:Array(String)}}
        GROUP BY vuln_id
    ) AS V ON V.vuln_id = L.vuln_id
    WHERE L.reason != 'unmatched' AND ({{status:String}} = '' OR L.status = {{status:String}})
    ORDER BY L.pkgset_name, L.pkg_name, L.vuln_id
"""  # noqa: S608

STATUS_FILTERS: Final = ("", "vulnerable", "fixed", "not_affected", "unknown")


@dataclass(frozen=True)
class Evidence:
    """One row behind a verdict: its kind, what it names, and a detail."""

    kind: str
    ref: str
    detail: str


@dataclass(frozen=True)
class Verdict:
    """The status of one vulnerability for one package of a branch, and why."""

    branch: str
    pkg_name: str
    pkg_hash: int
    version: str
    release: str
    vuln_id: str
    status: str
    reason: str
    updated: datetime
    summary: str = ""
    score: float = 0.0
    severity: str = ""
    evidence: list[Evidence] = field(default_factory=list)


@dataclass(frozen=True)
class VulnerabilityInfo:
    """One stored record and the records linked to it by ``vuln_references``."""

    vuln_id: str
    vuln_type: str
    source: str
    summary: str
    score: float
    severity: str
    url: str
    published: datetime
    modified: datetime
    rejected: bool
    ranges: int
    references: list[tuple[str, str]]
    linked: list[str]


@dataclass(frozen=True)
class BranchFix:
    """Where a vulnerability stands in one branch: the first fixed build of each package
    (``first_fixed``, ``name version-release`` joined by ``", "``), the packages fixed and
    open now."""

    branch: str
    first_fixed: str
    fixed_packages: list[str]
    open_packages: list[str]


@dataclass(frozen=True)
class FixedPackage:
    """A source package whose latest changelog entry names CVE ids (ALTRepo §6.4)."""

    pkg_hash: int
    pkg_name: str
    version: str
    release: str
    changelog_date: datetime
    cves: list[str]


_MATCHED: Final = "SELECT count() FROM VulnMatchRuns WHERE pkgset_name = {branch:String}"


def matched_branch(store: Store, branch: str) -> str:
    """``branch`` as stored, once a rematch of it has run: its verdicts answer then,
    none of them included. Before that an empty answer would read as "nothing open",
    so a branch never matched, and one never loaded, are a NotFoundError saying which."""
    name = branch_name(branch)
    ((runs,),) = store.query(_MATCHED, {"branch": name})
    if not runs:
        stored_branch(store, name)  # raises: no package set of the branch
        raise NotFoundError(
            f"branch {name} has not been matched yet: run `repotrack vulns match -b {name}`"
        )
    return name


def package_verdicts(store: Store, *, branch: str, name: str, status: str = "") -> list[Verdict]:
    """The vulnerabilities of one source package of a branch.

    No verdict at all is an answer ("nothing matched it") only for a package the last
    rematch of the branch matched with a mapping; for any other name it is a
    NotFoundError saying why (``_why_no_verdicts``)."""
    if not name:
        raise InputError("must not be empty", field="name")
    branch = matched_branch(store, branch)
    found = _verdicts(store, branch=branch, name=name, status=status)
    if not found and (not status or not _verdicts(store, branch=branch, name=name)):
        _why_no_verdicts(store, branch, name)
    return found


#: Of the last rematch of a branch: whether ``name`` was one of its source packages
#: (stand-ins included), and whether it had a mapping (a target with a CPE or an OSV
#: name). A generation holds one row per source package with ``pkg_cpe`` empty and one
#: per active mapping of it (``matching._TARGETS``).
_TARGETED: Final = """
    SELECT count(), countIf(pkg_cpe != '') FROM VulnMatchTargets
    WHERE pkgset_name = {branch:String} AND pkg_name = {name:String} AND vmt_run =
        (SELECT argMax(vmr_targets, ts) FROM VulnMatchRuns WHERE pkgset_name = {branch:String})
"""

#: The source package a binary package ``name`` of the branch's newest set is built from
#: (by its source RPM's file name, as the matcher reads it).
BUILT_FROM: Final = f"""
    SELECT any(replaceRegexpOne({SOURCE_NVR}, '-[^-]*-[^-]*$', '')) FROM Packages_buffer
    WHERE pkg_name = {{name:String}} AND pkg_sourcepackage = 0 AND pkg_hash IN {members("root")}
    HAVING count() > 0
"""  # noqa: S608


def _why_no_verdicts(store: Store, branch: str, name: str) -> None:
    """Raise the NotFoundError that says why ``name`` has no verdict in ``branch``: the
    last rematch had no such source package (a binary's name: its source's is named), or
    had it without a mapping, so no range could match it. Returns when the package was
    matched with a mapping: then no verdict means no loaded record names it.

    Before 2026-12-07 each of these answered "0 verdict(s)", which reads as "not
    vulnerable": asked for ``openssl`` where the branch has ``openssl3``, for
    ``libssl3``, or for one of the many packages nobody has mapped yet."""
    ((targets, mapped),) = store.query(_TARGETED, {"branch": branch, "name": name})
    if mapped:
        return
    if targets:
        raise NotFoundError(
            f"{name} of {branch} is mapped to no CPE or OSV name, so no vulnerability "
            f"range can match it: map it (`repotrack vulns map set {name} CPE`) and "
            f"rematch the branch"
        )
    from repotrack.store.queries import find_package_set

    root = find_package_set(store, branch=branch).uuid
    built_from = store.query(BUILT_FROM, {"name": name, "root": root})
    if built_from:
        source = str(built_from[0][0])
        raise NotFoundError(
            f"{name} is a binary package of {branch} built from {source}: ask for {source}"
        )
    raise NotFoundError(f"no source package {name} in {branch} as of its last rematch")


def vulnerability_verdicts(
    store: Store, *, vuln_id: str, branch: str = "", status: str = ""
) -> list[Verdict]:
    """The packages a vulnerability touches, in one branch or in all: its own verdicts
    and those of the records that name it (a BDU record: its CVEs', ``_asked``)."""
    if not vuln_id:
        raise InputError("must not be empty", field="vuln_id")
    if branch:
        branch = matched_branch(store, branch)
    asked = _asked(store, vuln_id)
    found = _verdicts(store, branch=branch, vulns=asked, status=status)
    if not found:
        ((loaded,),) = store.query(_LOADED, {"vulns": asked})
        if not loaded:  # "0 verdict(s)" would read as "nothing of ours is affected"
            raise NotFoundError(
                f"no vulnerability {vuln_id} is loaded, nor a record naming it: "
                "load it (`repotrack load vulns`) and rematch"
            )
    return found


_LOADED: Final = "SELECT count() FROM Vulnerabilities WHERE vuln_id IN {vulns:Array(String)}"


NAMING: Final = """
    SELECT vuln_id FROM Vulnerabilities GROUP BY vuln_id
    HAVING has(argMax(vuln_references.link, ts), {v:String}) ORDER BY vuln_id
"""

#: The CVE ids a BDU record's current version names (none for any other record).
BDU_CVES: Final = """
    SELECT arrayFilter((link, kind) -> kind = 'CVE', argMax(vuln_references.link, ts),
        argMax(vuln_references.type, ts))
    FROM Vulnerabilities WHERE vuln_id = {v:String}
    GROUP BY vuln_id HAVING argMax(vuln_type, ts) = 'BDU'
"""


def _naming(store: Store, vuln_id: str) -> list[str]:
    """The records whose current version names ``vuln_id`` among its references."""
    return [str(v) for (v,) in store.query(NAMING, {"v": vuln_id}) if v != vuln_id]


def _asked(store: Store, vuln_id: str) -> list[str]:
    """The ids whose verdicts answer a question about ``vuln_id``: its own, those of the
    records that name it, and for a BDU record those of the CVEs it names (and of the
    records naming them).

    Why the CVEs: a BDU record has no ranges, so no verdict of its own; the ALTRepo API
    answers ``/vulnerabilities/open/packages`` for a BDU id with the CVEs it names
    (``get_bdu_related_cves``). Before 2026-12-07 ``vulns cve BDU:...`` listed nothing.
    """
    asked = [vuln_id, *_naming(store, vuln_id)]
    for (cves,) in store.query(BDU_CVES, {"v": vuln_id}):
        for cve in sorted({str(c) for c in cves}):
            asked += [cve, *_naming(store, cve)]
    return list(dict.fromkeys(asked))


def branch_verdicts(store: Store, *, branch: str, status: str = "vulnerable") -> list[Verdict]:
    """Every verdict of a branch with the given status (default: the open ones)."""
    if not branch:
        raise InputError("must not be empty", field="branch")
    return _verdicts(store, branch=matched_branch(store, branch), status=status)


def _verdicts(
    store: Store,
    *,
    branch: str = "",
    name: str = "",
    vulns: list[str] | None = None,
    status: str = "",
) -> list[Verdict]:
    if status not in STATUS_FILTERS:
        raise InputError(
            f"must be one of {', '.join(s for s in STATUS_FILTERS if s)}", field="status"
        )
    params = {"branch": branch, "name": name, "vulns": vulns or [], "status": status}
    rows = store.query(_VERDICTS, params)
    return [_verdict(row) for row in rows]


def _verdict(row: tuple[Any, ...]) -> Verdict:
    branch, name, pkg_hash, version, release, vuln, status, reason = row[:8]
    kinds, refs, details, updated, summary, score, severity = row[8:]
    return Verdict(
        branch=str(branch),
        pkg_name=str(name),
        pkg_hash=int(pkg_hash),
        version=str(version),
        release=str(release),
        vuln_id=str(vuln),
        status=str(status),
        reason=str(reason),
        updated=updated,
        summary=str(summary or ""),
        score=float(score or 0.0),
        severity=str(severity or ""),
        # Sorted here too: verdicts stored before 2026-12-07 hold theirs in any order.
        evidence=[
            Evidence(*item)
            for item in sorted(
                zip(map(str, kinds), map(str, refs), map(str, details), strict=True),
                key=lambda item: evidence_key(*item),
            )
        ],
    )


def fixed_across_branches(store: Store, *, vuln_id: str) -> list[BranchFix]:
    """Per branch: each package's lowest build ever judged fixed, and the packages fixed /
    open now (by the vulnerability's own verdicts and those of the records that name it;
    for a BDU record, by those of the CVEs it names: ``_asked``).

    Per package, because a CVE is often fixed in several packages of a branch (a library
    and the programs that bundle it), and the ALTRepo API's ``/vulnerabilities/cve/fixes``
    names the fixing build of each (package, branch). Before 2026-12-07 the lowest
    version of any package was the branch's only first fix: versions of different
    packages compared with each other, and the others' fixes not named.
    """
    if not vuln_id:
        raise InputError("must not be empty", field="vuln_id")
    vulns = _asked(store, vuln_id)
    first = _first_fixes(store, vulns)
    current = _verdicts(store, vulns=vulns)
    if not first and not current:
        if store.query(
            "SELECT 1 FROM Vulnerabilities WHERE vuln_id IN {vulns:Array(String)} LIMIT 1",
            {"vulns": vulns},
        ):
            raise NotFoundError(
                f"{vuln_id} is loaded, but no package of a rematched branch matched it "
                "(is the affected package mapped? see `repotrack vulns map`)"
            )
        raise NotFoundError(f"no verdict names {vuln_id}; load it and rematch a branch first")
    firsts: dict[str, list[str]] = {}
    for (branch, _), build in sorted(first.items()):
        firsts.setdefault(branch, []).append(build)
    answer = []
    for branch in sorted({*firsts, *(v.branch for v in current)}):
        mine = [v for v in current if v.branch == branch]
        answer.append(
            BranchFix(
                branch=branch,
                first_fixed=", ".join(firsts.get(branch, [])),
                fixed_packages=[_nvr(v) for v in mine if v.status == "fixed"],
                open_packages=[_nvr(v) for v in mine if v.status == "vulnerable"],
            )
        )
    return answer


#: The builds whose last verdict while they were in their branch says fixed (migration
#: 0020: a build that left the set keeps it), each with when that verdict began to hold.
_FIXED_BUILDS_OF: Final = """
    SELECT pkgset_name, pkg_name, pkg_hash, argMax(pkg_version, ts) AS version,
        argMax(pkg_release, ts) AS release, argMax(pvv_since, ts) AS since,
        concat(pkg_name, ' ', version, '-', release) AS build
    FROM VulnBuildVerdicts
    WHERE vuln_id IN {vulns:Array(String)}
    GROUP BY vuln_id, pkgset_name, pkg_name, pkg_hash
    HAVING argMax(pvv_status, ts) = 'fixed'
"""

#: Per (branch, package, version order): the fixed build with the lowest key of that
#: order, and how many of the package's fixed builds have a key of that order.
_FIRST_FIX_BY_ORDER: Final = f"""
WITH fixed AS ({_FIXED_BUILDS_OF})
SELECT V.pkgset_name, V.pkg_name, K.vk_order, argMin(V.build, K.vk_evr), uniqExact(V.pkg_hash)
FROM fixed AS V
INNER JOIN
(
    SELECT pkg_hash, vk_order, any(vk_evr) AS vk_evr FROM PackageVersionKeys
    WHERE pkg_hash IN (SELECT pkg_hash FROM fixed)
    GROUP BY pkg_hash, vk_order
) AS K ON K.pkg_hash = V.pkg_hash
GROUP BY V.pkgset_name, V.pkg_name, K.vk_order
"""  # noqa: S608

#: Per (branch, package): how many builds were judged fixed, the one judged fixed first
#: (the earliest since its verdict holds), and the branch's version order now (its
#: latest rematch's).
_FIXED_BUILDS: Final = f"""
SELECT V.pkgset_name, V.pkg_name, uniqExact(V.pkg_hash), argMin(V.build, V.since),
    any(R.vmr_order)
FROM ({_FIXED_BUILDS_OF}) AS V
LEFT JOIN
(
    SELECT pkgset_name, argMax(vmr_order, ts) AS vmr_order FROM VulnMatchRuns
    GROUP BY pkgset_name
) AS R ON R.pkgset_name = V.pkgset_name
GROUP BY V.pkgset_name, V.pkg_name
"""  # noqa: S608


def _first_fixes(store: Store, vulns: list[str]) -> dict[tuple[str, str], str]:
    """Each (branch, package)'s first fixed build: the lowest by the keys of one version
    order, the branch's current one if every fixed build has a key of it, else another
    order that covers them all. Keys of two orders do not compare (every ``alt`` key
    sorts below every ``rpm`` key), and a build has keys in each order a branch holding
    it was matched in; before 2026-12-07 any key of a build was taken, so a branch whose
    order was changed, or a build shared with a branch of the other order, could name a
    later build (``tests/unit/security/test_first_fix_order.py``). When no order covers
    every build (the branch's order changed and its older builds have left the set), the
    build judged fixed first is named."""
    params = {"vulns": vulns}
    by_order: dict[tuple[str, str], dict[str, tuple[str, int]]] = {}
    for branch, name, order, build, count in store.query(_FIRST_FIX_BY_ORDER, params):
        by_order.setdefault((str(branch), str(name)), {})[str(order)] = (str(build), int(count))
    first: dict[tuple[str, str], str] = {}
    for branch, name, total, earliest, current in store.query(_FIXED_BUILDS, params):
        orders = by_order.get((str(branch), str(name)), {})
        covering = sorted(o for o, (_, count) in orders.items() if count == int(total))
        if covering:
            order = str(current) if str(current) in covering else covering[0]
            first[str(branch), str(name)] = orders[order][0]
        else:
            first[str(branch), str(name)] = str(earliest)
    return first


def _nvr(verdict: Verdict) -> str:
    return f"{verdict.pkg_name} {verdict.version}-{verdict.release}"


def last_packages_with_cve_fixed(
    store: Store, *, branch: str, limit: int = 100
) -> list[FixedPackage]:
    """Source packages of the branch's newest set whose latest changelog entry names CVEs,
    newest build first, as the ALTRepo API lists them (ordered by changelog date before
    2026-12-07, which picked other packages under ``limit``)."""
    from repotrack.store.queries import find_package_set

    if not 1 <= limit <= 10000:
        raise InputError("must be between 1 and 10000", field="limit")
    package_set = find_package_set(store, branch=branch)
    rows = store.query(
        "SELECT P.pkg_hash, P.pkg_name, P.pkg_version, P.pkg_release, P.chlog_date, "
        "extractAll(C.text, 'CVE-[0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9]+') AS cves "
        "FROM (SELECT pkg_hash, any(pkg_name) AS pkg_name, any(pkg_version) AS pkg_version, "
        "any(pkg_release) AS pkg_release, any(pkg_buildtime) AS pkg_buildtime, "
        "any(pkg_changelog.hash[1]) AS chlog_hash, "
        "any(pkg_changelog.date[1]) AS chlog_date FROM Packages_buffer "
        "WHERE pkg_sourcepackage = 1 AND notEmpty(pkg_changelog.hash) AND pkg_hash IN "
        "(SELECT pkg_hash FROM PackageSet_buffer WHERE pkgset_uuid IN (SELECT pkgset_uuid "
        "FROM PackageSetName WHERE pkgset_ruuid = {root:UUID})) GROUP BY pkg_hash) AS P "
        "INNER JOIN (SELECT chlog_hash, any(chlog_text) AS text FROM Changelog_buffer "
        "GROUP BY chlog_hash) AS C ON C.chlog_hash = P.chlog_hash "
        "WHERE notEmpty(cves) ORDER BY P.pkg_buildtime DESC, P.pkg_name LIMIT {limit:UInt32}",
        {"root": package_set.uuid, "limit": limit},
    )
    return [
        FixedPackage(int(h), str(n), str(v), str(r), d, sorted(set(c))) for h, n, v, r, d, c in rows
    ]


def vulnerability_info(store: Store, *, vuln_id: str) -> VulnerabilityInfo:
    """The current record of ``vuln_id`` and every record that names it or that it names
    (BDU and GHSA records and distribution advisories link to CVEs this way, §6.3.5)."""
    rows = store.query(
        "SELECT argMax(vuln_type, ts), argMax(vuln_source, ts), argMax(vuln_summary, ts), "
        "argMax(vuln_score, ts), argMax(vuln_severity, ts), argMax(vuln_url, ts), "
        "argMax(vuln_published_date, ts), argMax(vuln_modified_date, ts), "
        "argMax(vuln_rejected, ts), argMax(vuln_hash, ts), argMax(vuln_references.type, ts), "
        "argMax(vuln_references.link, ts) FROM Vulnerabilities WHERE vuln_id = {v:String}",
        {"v": vuln_id},
    )
    if not rows or rows[0][9] in (0, None):
        naming = _naming(store, vuln_id)
        named_by = f"; records that name it: {', '.join(naming)}" if naming else ""
        raise NotFoundError(f"no vulnerability {vuln_id} is loaded{named_by}")
    kind, source, summary, score, severity, url, published, modified, rejected, vhash = rows[0][:10]
    types, links = rows[0][10], rows[0][11]
    ((ranges,),) = store.query(
        "SELECT count() FROM CpeMatch WHERE vuln_id = {v:String} AND vuln_hash = {h:UInt64}",
        {"v": vuln_id, "h": vhash},
    )
    naming = _naming(store, vuln_id)
    named = [str(link) for t, link in zip(types, links, strict=True) if t in ("CVE", "GHSA", "BDU")]
    return VulnerabilityInfo(
        vuln_id=vuln_id,
        vuln_type=str(kind),
        source=str(source),
        summary=str(summary),
        score=float(score),
        severity=str(severity),
        url=str(url),
        published=published,
        modified=modified,
        rejected=bool(rejected),
        ranges=int(ranges),
        references=list(zip(types, links, strict=True)),
        linked=sorted({*named, *naming} - {vuln_id}),
    )
