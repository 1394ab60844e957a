"""Rematch one branch: packages × ranges in SQL, then one verdict per pair with its evidence.

Order of work (``rematch_branch``):

1. pick the branch's newest package set and the version order configured for it
   (``rpm`` or ``alt``);
2. decide full or incremental. Full the first time, after the order or a mapping
   changed, or after an erratum was discarded (any pair may change then). Otherwise
   incremental, against the previous run: the vulnerabilities written since, and those
   named by new triage rows, ALT checks (``CveChecked``) or errata of the branch (the
   run's ``changes`` table), are rematched against every package; after a new package
   set, its added source packages (new builds included) are also matched against every
   range, and the removed ones' verdicts become ``unmatched`` (the run's ``packages``
   table). A full run makes sure every source package of the set has its sortable
   version keys in ``PackageVersionKeys`` (computed in Python once per package) and
   writes the branch's match targets (``VulnMatchTargets``: each source package with its
   keys, and each active mapping with its parsed CPE triplet) and the CVE ids its
   changelogs and patch names mention (``VulnMatchMentions``); an incremental run after
   a new package set writes a new generation: the previous one's rows less the removed
   packages', plus the added packages' rows (a generation is never changed once a run
   names it, so no run waits for a delete to be applied, and a run that stops half-way
   leaves a generation no run row names). With nothing to rematch (no record, triage row,
   check or erratum written since the previous run, the same package set: read in the run's
   first query) the run writes its run row and stops: its statements would find no pair
   to change, and planning them cost 0.1 s;
3. match in one SQL statement into the run's scratch table: the targets →
   ``CpeMatch`` rows of current, non-rejected vulnerabilities with the same (vendor,
   product, target_sw) — ALTRepo §6.3 — and the package's key compared with the bounds'
   keys by plain ``<``/``>``. Each pair gets a position (``_PAIRS``);
4. write ``PackagesCveMatch`` (in range → ``is_vulnerable``);
5. gather the evidence per (package, vulnerability) in SQL — the ranges and vendor
   statements, errata, changelog entries naming the CVE, patch file names of the spec
   naming it, manual triage rows — and one verdict per pair (``verdict.py`` says how a
   status is decided) into scratch tables;
6. pairs of the previous verdicts that the run covers and no longer finds are added as
   ``unknown``/``unmatched``; the verdicts are written to
   ``PackagesVulnerabilityVerdict`` and ``PackagesVulnerabilityStatus``, and the
   ``VulnMatchRuns`` row last (then older target generations of the branch are deleted,
   on the embedded store without waiting for the delete: no query reads them).

An incremental run leaves the result tables as a full run of the same state would
(tests/unit/security/test_incremental.py compares them table by table).

Scratch tables are temporary tables on the embedded store (the thread's connection
keeps them for the run) and Memory tables with unique names on a ClickHouse server.

Empty bounds: §6.3 leaves open how an empty start or end behaves; here an empty bound
means "no bound on that side" (NVD writes ``*`` and no bounds for "every version").
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from repotrack.rpm import VersionOrder, evr_key, version_key
from repotrack.security.checked import CHECKED_SINCE, checked_params
from repotrack.security.set_sources import set_sources
from repotrack.security.verdict import (
    MENTIONS_SQL,
    evidence_sql,
    verdict_digest_sql,
    verdict_sql,
)
from repotrack.store.base import Store
from repotrack.store.branches import branch_name
from repotrack.store.deletes import unwaited
from repotrack.store.queries import find_package_set

__all__ = ["MatchRun", "cpe_attribute_sql", "rematch_branch"]

log = logging.getLogger(__name__)

_SET_SOURCES: Final = set_sources("root")

#: The source packages whose targets a run writes: the set's (full run) or the added ones
#: (their columns are in the run's ``packages`` table), less those with targets already.
_ADDED: Final = "(SELECT pkg_hash FROM {packages:Identifier} WHERE change = 'added')"
_SET_RUN_SOURCES: Final = f"""
    SELECT pkg_hash, pkg_name, pkg_epoch, pkg_version, pkg_release FROM ({_SET_SOURCES})
"""  # noqa: S608
_ADDED_RUN_SOURCES: Final = """
    SELECT pkg_hash, pkg_name, pkg_epoch, pkg_version, pkg_release
    FROM {packages:Identifier}
    WHERE change = 'added' AND pkg_hash NOT IN
        (SELECT pkg_hash FROM VulnMatchTargets WHERE pkgset_name = {branch:String}
            AND vmt_run = {targets:DateTime64(3)} AND vendor = '' AND product = ''
            AND pkg_cpe = '')
"""


def cpe_attribute_sql(n: int) -> str:
    """SQL: the unescaped CPE attribute ``n`` (1-based, as ClickHouse arrays) of a
    mapping's CPE (column ``pnc_result``), as ``parse_cpe`` reads it."""
    return _ATTR.format(n=n)


#: Unescaped CPE attribute ``n`` of a mapping's CPE (``cpe_attribute_sql``), read left to
#: right as NISTIR 7695 quotes: a quoted backslash (``\\``) first, so that a colon after
#: one still separates; then a quoted colon, which does not; then every other quoted
#: character. (Taking every backslash before a colon as its quote read ``a\\:b`` as one
#: attribute ``a:b`` where ``parse_cpe`` reads ``a\`` and ``b``.)
_ATTR: Final = (
    r"replaceAll(replaceRegexpAll(replaceAll(splitByChar(':', replaceAll(replaceAll(pnc_result,"
    r" '\\\\', '\x02'), '\\:', '\x01'))[{n}], '\x01', ':'), '\\\\(.)', '\\1'), '\x02', '\\')"
)


def _target_sources_sql(*, full: bool) -> str:
    """The statement that writes the source packages whose targets a run writes, with
    their version keys, into the run's ``{sources}`` table (read twice by ``_TARGETS``,
    so computed once): the set's in a full run, the added ones after a new package set.
    Written for the run's kind: a branch that a parameter switched off was still read
    (the whole set's sources and binaries, 60-80 ms of a run after a new snapshot in
    ``benchmarks/vuln_match.py``)."""
    sources = _SET_RUN_SOURCES if full else _ADDED_RUN_SOURCES
    keys = "" if full else f"AND pkg_hash IN {_ADDED}"
    return f"""
CREATE SCRATCH TABLE {{sources:Identifier}} ENGINE = Memory AS
SELECT S.pkg_hash AS pkg_hash, S.pkg_name AS pkg_name, S.pkg_version AS pkg_version,
    S.pkg_release AS pkg_release, K.vk_version AS vkey, K.vk_evr AS ekey, K.vk_vr AS rkey
FROM ({sources}) AS S
INNER JOIN
(
    SELECT pkg_hash, any(vk_version) AS vk_version, any(vk_evr) AS vk_evr,
        max(vk_vr) AS vk_vr
    FROM PackageVersionKeys WHERE vk_order = {{order:String}} {keys}
    GROUP BY pkg_hash
) AS K ON K.pkg_hash = S.pkg_hash
"""  # noqa: S608


#: The match targets of a full run: one row per source package of the set with its keys
#: (``pkg_cpe`` empty), and one more per active mapping with the parsed CPE triplet.
_TARGETS: Final = f"""
INSERT INTO VulnMatchTargets (pkgset_name, vmt_run, pkg_hash, pkg_name, pkg_version,
    pkg_release, vkey, ekey, rkey, pkg_cpe, vendor, product, target_sw)
WITH
    maps AS
    (
        SELECT pkg_name, pnc_result AS pkg_cpe,
            if(pnc_type = 'cpe', {_ATTR.format(n=4)}, '') AS vendor,
            if(pnc_type = 'cpe', {_ATTR.format(n=5)}, pnc_result) AS product,
            if(pnc_type = 'cpe', {_ATTR.format(n=11)}, '') AS target_sw
        FROM PackagesNameConversion
        WHERE pnc_type IN ('cpe', 'osv') AND ({{everything:UInt8}}
            OR pkg_name IN (SELECT pkg_name FROM {{sources:Identifier}}))
        GROUP BY pkg_name, pnc_type, pnc_result
        HAVING argMax(pnc_state, ts) = 'active'
    ),
    sources AS (SELECT * FROM {{sources:Identifier}})
SELECT {{branch:String}}, {{targets:DateTime64(3)}}, S.pkg_hash, S.pkg_name, S.pkg_version,
    S.pkg_release, S.vkey, S.ekey, S.rkey, M.pkg_cpe, M.vendor, M.product, M.target_sw
FROM sources AS S
INNER JOIN maps AS M ON M.pkg_name = S.pkg_name
UNION ALL
SELECT {{branch:String}}, {{targets:DateTime64(3)}}, pkg_hash, pkg_name, pkg_version,
    pkg_release, vkey, ekey, rkey, '', '', '', ''
FROM sources
"""  # noqa: S608

#: The packages an incremental run after a new package set matches against every range
#: (``added``: source packages of the new set that the previous run's targets lack) and
#: the ones whose verdicts become ``unmatched`` (``removed``: source packages with
#: targets in the previous run's generation that the new set lacks). That generation
#: holds the previous set's source packages (stand-ins included): a generation is
#: complete once a run names it, and one written by a run that stopped half-way is named
#: by none, so the next run compares with the generation before it. Reading the previous
#: set's sources again as well (as this did before 2026-12-06) gave the same changes and
#: cost 25-60 ms of a run after a new snapshot in ``benchmarks/vuln_match.py``.
_PACKAGE_CHANGES: Final = f"""
CREATE SCRATCH TABLE {{packages:Identifier}} ENGINE = Memory AS
SELECT pkg_hash, change, pkg_name, pkg_epoch, pkg_version, pkg_release FROM
(
SELECT pkg_hash, if(now, 'added', 'removed') AS change, anyIf(name, side = 1) AS pkg_name,
    anyIf(epoch, side = 1) AS pkg_epoch, anyIf(version, side = 1) AS pkg_version,
    anyIf(release, side = 1) AS pkg_release, max(side = 1) AS now
FROM
(
    -- the set's sources read once (a WITH would be read again wherever it is named)
    SELECT pkg_hash, pkg_name AS name, pkg_epoch AS epoch, pkg_version AS version,
        pkg_release AS release, 1 AS side
    FROM ({_SET_SOURCES})
    UNION ALL
    SELECT pkg_hash, '', 0, '', '', 2 FROM VulnMatchTargets
    WHERE pkgset_name = {{branch:String}} AND vmt_run = {{kept:DateTime64(3)}} AND vendor = ''
        AND product = '' AND pkg_cpe = ''
)
GROUP BY pkg_hash
HAVING now != max(side = 2)
)
"""  # noqa: S608

_NO_PACKAGE_CHANGES: Final = """
CREATE SCRATCH TABLE {packages:Identifier} (pkg_hash UInt64, change String, pkg_name String,
    pkg_epoch UInt32, pkg_version String, pkg_release String)
    ENGINE = Memory
"""

#: Columns of the two tables a targets generation is made of, ``vmt_run`` first.
_GENERATION_COLUMNS: Final = {
    "VulnMatchTargets": (
        "vmt_run, pkgset_name, pkg_hash, pkg_name, pkg_version, pkg_release, vkey, ekey,"
        " rkey, pkg_cpe, vendor, product, target_sw"
    ),
    "VulnMatchMentions": (
        "vmt_run, pkgset_name, vuln_id, pkg_hash, kind, ref, detail, pkg_name, pkg_version,"
        " pkg_release"
    ),
}

#: An incremental run after a new package set starts its targets generation with the
#: previous generation's rows less the removed packages' (the added ones' are written
#: next, as a full run writes all of them). Why a copy and not a delete of the removed
#: rows: a ``DELETE`` returns once its mutation is applied, which waits for merges chDB
#: runs in the background: 0.02-0.4 s per run in ``benchmarks/vuln_match.py`` (0.05 s
#: of CPU), where copying its 90 000 target rows took 0.06 s.
_KEEP: Final = """
INSERT INTO {table} ({columns})
SELECT {{targets:DateTime64(3)}}, {copied} FROM {table}
WHERE pkgset_name = {{branch:String}} AND vmt_run = {{kept:DateTime64(3)}}
    AND pkg_hash NOT IN (SELECT pkg_hash FROM {{packages:Identifier}} WHERE change = 'removed')
"""

#: The vulnerabilities an incremental run rematches against every package: written since
#: the previous run, or named by triage rows, ALT checks or errata of the branch written
#: since then; each with its current record's hash and rejected flag (hash 0 for an id
#: that only a triage row, a check or an erratum names), read once here, so the
#: statements that follow filter by this small table instead of grouping
#: ``Vulnerabilities``. A record written since has its newest rows among those written
#: since, so those rows alone give its current hash and flag; an id named by a triage
#: row, a check or an erratum is read whole (primary key).
_WRITTEN_SINCE: Final = "ts > {vuln_ts:DateTime64(3)}"
_TRIAGED_SINCE: Final = (
    "SELECT vuln_id FROM VulnerabilityStatus WHERE ts >= {last_run:DateTime64(3)}"
)
_ERRATA_SINCE: Final = """
    SELECT link AS vuln_id FROM ErrataHistory
    ARRAY JOIN eh_references.type AS kind, eh_references.link AS link
    WHERE pkgset_name = {branch:String} AND ts >= {last_run:DateTime64(3)} AND kind = 'vuln'
"""


def _changes_sql(*, errata: bool, triage: bool, checked: bool = False) -> str:
    """The statement that fills the run's ``{changes}`` table (empty in a full run); the
    parts that look for triage rows, errata and ALT's checks are left out when the store
    has none."""
    named = [_TRIAGED_SINCE] if triage else []
    named += [_ERRATA_SINCE] if errata else []
    named += [CHECKED_SINCE] if checked else []
    which = " OR ".join([_WRITTEN_SINCE, *(f"vuln_id IN ({part})" for part in named)])
    unknown = "".join(
        f" UNION ALL SELECT vuln_id, 0, 0, toDateTime64(0, 3) FROM ({part})"  # noqa: S608
        for part in named
    )
    return f"""
CREATE SCRATCH TABLE {{changes:Identifier}} ENGINE = Memory AS
SELECT vuln_id, argMax(vuln_hash, ts) AS vuln_hash, argMax(vuln_rejected, ts) AS rejected
FROM
(
    SELECT vuln_id, vuln_hash, vuln_rejected, ts FROM Vulnerabilities
    WHERE NOT {{everything:UInt8}} AND ({which})
    {unknown}
)
WHERE NOT {{everything:UInt8}}
GROUP BY vuln_id
"""  # noqa: S608


#: Every current, non-rejected vulnerability (a full run, and the ranges an incremental
#: run after a package-set change matches against the added packages).
_CURRENT: Final = """
    SELECT vuln_id, argMax(vuln_hash, ts) AS vuln_hash
    FROM Vulnerabilities
    GROUP BY vuln_id
    HAVING argMax(vuln_rejected, ts) = 0
"""

#: Pairs of targets (``{targets_filter}``) and current ranges (``{ranges_filter}``) that
#: share a (vendor, product, target_sw) triplet, each with its position (ALTRepo §6.3):
#: -1 below the range, 0 in it, 1 above it, 2 bounds that are no version, 3 in a vendor's
#: not-affected statement (one without bounds covers every version), 4 outside such a
#: statement or in one whose bounds are no version (no evidence either way). A range
#: whose EVR bounds are module builds (``.module+el9…``, ``.module_el8…``) pairs with
#: module builds only, and one whose bounds are not with builds outside modules only:
#: a module stream and the distribution's own package are separate streams, each with
#: its own advisories (vuln-formats.md §9).
_PAIRS: Final = """
SELECT
    P.pkg_hash AS pkg_hash, P.pkg_name AS pkg_name, P.pkg_version AS pkg_version,
    P.pkg_release AS pkg_release, P.pkg_cpe AS pkg_cpe,
    R.vuln_id AS vuln_id, R.vuln_hash AS vuln_hash, R.cpe_hash AS cpe_hash, R.cpm_cpe AS cpm_cpe,
    concat(if(R.start_excluded, '(', '['), R.cpm_version_start, ', ', R.cpm_version_end,
        if(R.end_excluded, ')', ']')) AS bounds,
    multiIf(R.cpm_key_kind != 'evr', P.vkey, R.epochless, P.rkey, P.ekey) AS k,
    multiIf(
        R.cpm_unknown = 1, if(R.cpm_not_affected = 1, 4, 2),
        R.start_key != '' AND (if(R.start_excluded, k <= R.start_key, k < R.start_key)),
            if(R.cpm_not_affected = 1, 4, -1),
        R.end_key != '' AND (if(R.end_excluded, k >= R.end_key, k > R.end_key)),
            if(R.cpm_not_affected = 1, 4, 1),
        R.cpm_not_affected = 1, 3,
        0) AS position
FROM
(
    SELECT pkg_hash, pkg_name, pkg_version, pkg_release, pkg_cpe, vendor, product, target_sw,
        vkey, ekey, rkey
    FROM VulnMatchTargets
    WHERE pkgset_name = {{branch:String}} AND vmt_run = {{targets:DateTime64(3)}} AND pkg_cpe != ''
        AND {targets_filter}
) AS P
INNER JOIN
(
    SELECT vuln_id, vuln_hash, cpe_hash, cpm_cpe, cpm_vendor, cpm_product, cpm_target_sw,
        cpm_key_kind, cpm_unknown, cpm_not_affected, cpm_version_start, cpm_version_end,
        cpm_version_start_excluded AS start_excluded, cpm_version_end_excluded AS end_excluded,
        position(cpm_version_start, ':') = 0 AND position(cpm_version_end, ':') = 0
            AS epochless,
        if({{order:String}} = 'alt', cpm_start_key_alt, cpm_start_key) AS start_key,
        if({{order:String}} = 'alt', cpm_end_key_alt, cpm_end_key) AS end_key,
        position(cpm_version_start, '.module') > 0 OR position(cpm_version_end, '.module') > 0
            AS module_bound
    FROM CpeMatch
    {ranges_prewhere}WHERE cpm_version_start != '-' AND {ranges_filter}
) AS R
    ON R.cpm_vendor = P.vendor AND R.cpm_product = P.product AND R.cpm_target_sw = P.target_sw
WHERE R.cpm_key_kind != 'evr' OR R.module_bound = (position(P.pkg_release, '.module') > 0)
"""

#: The ranges of the current records (a full run).
_OF_CURRENT: Final = "(vuln_id, vuln_hash) IN (SELECT vuln_id, vuln_hash FROM current)"
#: The ranges of the changed vulnerabilities' current records. The pair (id, hash) names a
#: record exactly and lets the primary key of ``CpeMatch`` skip every other record's
#: rows; the granules read still hold other records' rows (older versions of the changed
#: ones, neighbours), which the ``PREWHERE`` on the hash alone drops first: comparing one
#: number per row costs a fraction of hashing an (id, hash) pair of every row read.
_OF_CHANGES: Final = "(vuln_id, vuln_hash) IN (SELECT vuln_id, vuln_hash FROM {changes:Identifier})"
_CHANGES_FIRST: Final = (
    "PREWHERE vuln_hash IN (SELECT vuln_hash FROM {changes:Identifier} WHERE rejected = 0)\n    "
)
_ADDED_PRODUCTS: Final = f"""
    {_OF_CURRENT}
    AND vuln_id NOT IN (SELECT vuln_id FROM {{changes:Identifier}})
    AND (cpm_vendor, cpm_product) IN (SELECT vendor, product
        FROM VulnMatchTargets WHERE pkgset_name = {{branch:String}}
            AND vmt_run = {{targets:DateTime64(3)}} AND pkg_hash IN {_ADDED})
"""  # noqa: S608


def _match_sql(*, full: bool, new_packages: bool, no_changes: bool = False) -> str:
    """The statement that writes the run's pairs into its scratch table ``{scratch}``:
    every pair (full run); the changed vulnerabilities' ranges × every target; after a
    package-set change also every other range × the added packages' targets (the ranges
    read are only those of the products the added packages map to), and these alone when
    no vulnerability changed (``no_changes``: the daily new snapshot; matching an empty
    set of ranges against every target still cost 14-22 ms in ``benchmarks/vuln_match.py``)."""
    head = "CREATE SCRATCH TABLE {scratch:Identifier} ENGINE = Memory AS\n"
    if full:
        return (
            head
            + f"WITH current AS ({_CURRENT})"
            + _PAIRS.format(targets_filter="1", ranges_prewhere="", ranges_filter=_OF_CURRENT)
        )
    statement = _PAIRS.format(
        targets_filter="1", ranges_prewhere=_CHANGES_FIRST, ranges_filter=_OF_CHANGES
    )
    if not new_packages:
        return head + statement
    added = _PAIRS.format(
        targets_filter=f"pkg_hash IN {_ADDED}", ranges_prewhere="", ranges_filter=_ADDED_PRODUCTS
    )
    if no_changes:
        return head + f"WITH current AS ({_CURRENT})" + added
    return head + f"WITH current AS ({_CURRENT})" + statement + "UNION ALL" + added


#: One row per package × range. ``cpm_cpe_hash`` is the range's ``CpeMatch.cpe_hash``:
#: the ALTRepo API joins the two (``get_vuln_list``: a vulnerability is "ours" when a
#: range of it matched a package), so it is not a hash of the CPE text.
_CVE_MATCH_ROWS: Final = """
INSERT INTO PackagesCveMatch (key_hash, pkg_hash, pkg_name, pkg_cpe, pkg_cpe_hash, vuln_id,
    vuln_hash, cpm_cpe, cpm_cpe_hash, cpm_version_hash, is_vulnerable, ts)
SELECT murmurHash3_64(pkg_hash, vuln_id, cpe_hash), pkg_hash, pkg_name, pkg_cpe,
    murmurHash3_64(pkg_cpe), vuln_id, vuln_hash, cpm_cpe, cpe_hash, cpe_hash,
    position = 0, {ts:DateTime64(3)}
FROM {scratch:Identifier}
"""

_VERDICT_COLUMNS: Final = (
    "pkgset_name, pkg_hash, pkg_name, pkg_version, pkg_release, vuln_id, vuln_hash, pvv_status,"
    " pvv_reason, `pvv_evidence.kind`, `pvv_evidence.ref`, `pvv_evidence.detail`, ts"
)

#: The verdicts, each dated since when it has held (``pvv_since``): the date of the pair's
#: previous verdict when that said the same (``verdict_digest_sql``), else the run's. A run
#: writes every pair it covers again, a full one every pair of the branch; before
#: 2026-12-07 the write time was all a verdict had, so every full rematch moved every
#: exported record's ``modified`` with nothing changed. The previous verdicts are read
#: from their copy sorted by vulnerability (an incremental run reads its index ranges).
_VERDICT_ROWS: Final = f"""
INSERT INTO PackagesVulnerabilityVerdict ({_VERDICT_COLUMNS}, pvv_since)
SELECT {", ".join(f"V.{column}" for column in _VERDICT_COLUMNS.split(", "))},
    if(P.digest = {verdict_digest_sql("V")}, P.since, V.ts)
FROM {{verdicts:Identifier}} AS V
LEFT JOIN
(
    SELECT pkg_name, vuln_id, argMax(pvv_digest, ts) AS digest, argMax(pvv_since, ts) AS since
    FROM VulnVerdictsByVuln
    WHERE pkgset_name = {{branch:String}}
        AND vuln_id IN (SELECT vuln_id FROM {{verdicts:Identifier}})
    GROUP BY pkg_name, vuln_id
) AS P ON P.pkg_name = V.pkg_name AND P.vuln_id = V.vuln_id
"""  # noqa: S608

#: The statuses of the builds in the branch's set (the run's targets generation): a
#: build that left the set keeps its ``unmatched`` verdict but no status rows (the API
#: groups statuses by ``pkg_hash`` and would list its older rows; ``_GONE``).
_STATUS_ROWS: Final = """
INSERT INTO PackagesVulnerabilityStatus (pkg_hash, pkg_name, pkgset_name, vuln_id, vuln_hash,
    is_vulnerable, is_fixed, ts)
SELECT pkg_hash, pkg_name, pkgset_name, vuln_id, vuln_hash, pvv_status = 'vulnerable',
    pvv_status = 'fixed', ts
FROM {verdicts:Identifier}
WHERE pkg_hash IN (SELECT pkg_hash FROM VulnMatchTargets WHERE pkgset_name = {branch:String}
    AND vmt_run = {targets:DateTime64(3)} AND vendor = '' AND product = '' AND pkg_cpe = '')
"""


#: The pairs the run wrote a status for whose older ``PackagesVulnerabilityStatus`` rows
#: say otherwise (vulnerable or fixed where the new row does not). The ALTRepo API reads
#: every row of a pair (open: any row vulnerable and none fixed, ALTRepo §6.1), and a
#: ``ReplacingMergeTree`` drops an older row only if a merge happens to take both parts,
#: so those rows are deleted (``_OUTDATED_STATUS``). Each pair is answered as (build,
#: vulnerability): a build's id names one package, so it names the same rows.
_CONTRADICTED: Final = """
    SELECT groupUniqArray(tuple(S.pkg_hash, S.vuln_id))
    FROM PackagesVulnerabilityStatus AS S
    INNER JOIN {verdicts:Identifier} AS V
        ON V.pkg_name = S.pkg_name AND V.pkg_hash = S.pkg_hash AND V.vuln_id = S.vuln_id
    WHERE S.pkgset_name = {branch:String} AND S.ts < {ts:DateTime64(3)}
        -- the same pairs as the join: lets the primary key skip the other pairs' rows
        AND (S.pkg_name, S.pkg_hash, S.vuln_id) IN
            (SELECT pkg_name, pkg_hash, vuln_id FROM {verdicts:Identifier})
        AND (S.is_vulnerable != (V.pvv_status = 'vulnerable')
            OR S.is_fixed != (V.pvv_status = 'fixed'))
"""

#: The builds with status rows of the branch that its package set no longer holds (a
#: package removed, or replaced by a new build): the API would list their pairs as open
#: beside the new build's (it groups by ``pkg_hash``), so their rows are deleted too.
#: Asked after a run that wrote a targets generation (full, or a new package set), from
#: that generation's source packages.
_GONE: Final = """
    SELECT groupUniqArray(pkg_hash) FROM PackagesVulnerabilityStatus
    WHERE pkgset_name = {branch:String} AND pkg_hash NOT IN
        (SELECT pkg_hash FROM VulnMatchTargets WHERE pkgset_name = {branch:String}
            AND vmt_run = {targets:DateTime64(3)} AND vendor = '' AND product = ''
            AND pkg_cpe = '')
"""

#: The delete of the outdated status rows: the builds that left the set, and the pairs of
#: ``_CONTRADICTED`` by (build, vulnerability). Naming each pair by its package name as
#: well (the table's key) gave the statement a third array, of strings, which cost
#: nearly half of it: 39-60 ms of CPU against 24-30 ms now (2026-12-07, some 650 pairs a
#: run in ``benchmarks/vuln_match.py``, medians of eight runs in three rounds interleaved
#: with the code before, load 7-9; a delete that matches nothing takes 8-15 ms).
_OUTDATED_STATUS: Final = """
DELETE FROM PackagesVulnerabilityStatus
WHERE pkgset_name = {branch:String} AND (pkg_hash IN (SELECT arrayJoin({gone:Array(UInt64)}))
    OR ts < {ts:DateTime64(3)} AND (pkg_hash, vuln_id) IN (SELECT arrayJoin(arrayZip(
        {hashes:Array(UInt64)}, {vulns:Array(String)}))))
"""


def _counts_sql(*, new_packages: bool, new_targets: bool) -> str:
    """What the run considered, found and wrote (the added packages only after a
    package-set change: other runs make no ``{packages}`` table), the pairs whose older
    status rows contradict the ones it wrote (``_CONTRADICTED``), and, after a run that
    wrote a targets generation, the builds no longer in the set (``_GONE``)."""
    added = (
        "(SELECT count() FROM {packages:Identifier} WHERE change = 'added')"
        if new_packages
        else "0"
    )
    gone = f"({_GONE})" if new_targets else "CAST([] AS Array(UInt64))"
    return f"""
SELECT (SELECT count() FROM {{changes:Identifier}}),
    (SELECT count() FROM {{scratch:Identifier}}),
    (SELECT countIf(pvv_reason != 'unmatched') FROM {{verdicts:Identifier}}), {added},
    ({_CONTRADICTED}), {gone}
"""  # noqa: S608


#: The run's row, written last: the next run builds on it.
_RUN_ROW: Final = """
INSERT INTO VulnMatchRuns (pkgset_name, vmr_root, vmr_order, vmr_kind, vmr_vuln_ts,
    vmr_targets, vmr_verdicts, vmr_format, ts)
SELECT {branch:String}, {root:UUID}, {order:String}, {kind:String}, {vuln_now:DateTime64(3)},
    {targets:DateTime64(3)}, {verdicts:UInt64}, {format:UInt8}, {ts:DateTime64(3)}
"""

_SCRATCH: Final = (
    "changes",
    "packages",
    "sources",
    "changelogs",
    "scratch",
    "evidence",
    "verdicts",
)


@dataclass(frozen=True)
class MatchRun:
    """What one rematch did."""

    branch: str
    order: VersionOrder
    kind: str  # "full" or "incremental"
    vulnerabilities: int  # considered (all current ones, or the changed ones)
    matches: int  # package × range pairs that share a CPE triplet
    verdicts: int
    seconds: float
    packages: int = 0  # source packages matched against every range (incremental runs)


def rematch_branch(
    store: Store, *, branch: str, order: VersionOrder = VersionOrder.RPM, full: bool = False
) -> MatchRun:
    """Recompute matches, verdicts and statuses of ``branch`` (incrementally when possible)."""
    branch = branch_name(branch)
    now = datetime.now(UTC)
    started = now.replace(microsecond=now.microsecond // 1000 * 1000)
    base = _incremental_base(store, branch, order)
    root = base.root or find_package_set(store, branch=branch).uuid  # (raises: no such set)
    last = None if full else base.last
    full_run = last is None
    new_packages = last is not None and last.root != root
    run = uuid.uuid4().hex
    params: dict[str, Any] = {
        "root": root,
        "order": order.value,
        "branch": branch,
        "everything": last is None,
        "new_packages": new_packages,
        "ts": _ms(started),
        # The generation of match targets the run reads (and writes, unless it is for
        # changed vulnerabilities only), and the previous one.
        "targets": _ms(last.targets if last and not new_packages else started),
        "kept": _ms(last.targets if last else started),
        "vuln_ts": _ms(last.vuln_ts if last else started),
        "last_run": _ms(last.ran if last else started),
        **{name: f"vuln_{name}_{run}" for name in _SCRATCH},
    }
    # The run's scratch tables: temporary ones on the embedded store (one connection per
    # thread keeps them for the run; creating one costs a fraction of a Memory table's
    # catalog entry), Memory tables on a server (its HTTP queries share no session).
    temporary = store.url.startswith("chdb:")
    create = "CREATE TEMPORARY TABLE" if temporary else "CREATE TABLE"

    def run_sql(*statements: str) -> None:
        for sql in statements:
            store.command(sql.replace("CREATE SCRATCH TABLE", create), params)

    if last is not None and base.unchanged:
        return _record_run(store, params, base, started, kind="incremental", counts=(0, 0, 0, 0))
    if base.checked:
        params.update(checked_params(store, branch=branch, order=order))
    try:
        # The package changes: computed after a new package set, an empty table in a full
        # run (its target statements name it), none in a run for changed vulnerabilities
        # only (its statements are written without it).
        packages = [_PACKAGE_CHANGES] if new_packages else [_NO_PACKAGE_CHANGES] if full_run else []
        run_sql(
            _changes_sql(errata=base.errata, triage=base.triage, checked=base.checked), *packages
        )
        if last is None:
            ensure_version_keys(store, root=root, order=order)
        elif new_packages:
            _added_version_keys(store, params, order)
        if new_packages:
            run_sql(*_kept_rows())
        if last is None or new_packages:
            run_sql(_target_sources_sql(full=full_run), _TARGETS, *MENTIONS_SQL)
        flags = {"full": full_run, "new_packages": new_packages}
        run_sql(
            _match_sql(**flags, no_changes=base.no_changes),
            _CVE_MATCH_ROWS,
            evidence_sql(**flags, errata=base.errata, triage=base.triage, checked=base.checked),
            verdict_sql(**flags),
            _VERDICT_ROWS,
            _STATUS_ROWS,
        )
        ((changed, matches, verdicts, added, contradicted, gone),) = store.query(
            _counts_sql(new_packages=new_packages, new_targets=last is None or new_packages),
            params,
        )
    finally:
        names = [f"{{{name}:Identifier}}" for name in _SCRATCH]
        for drop in [names] if temporary else [[n] for n in names]:  # one at a time on a server
            store.command("DROP TABLE IF EXISTS " + ", ".join(drop), params)
    # Before the run's row, so that a run stopped here is done again by the next one.
    _delete_outdated_statuses(store, params, contradicted, gone)
    kind = "full" if last is None else "incremental"
    run_done = _record_run(
        store, params, base, started, kind=kind, counts=(changed, matches, verdicts, added)
    )
    if last is None or new_packages:
        _drop_old_targets(store, params)
    if last is None:
        run_done = dataclasses.replace(run_done, vulnerabilities=_count_current(store))
    return run_done


def _delete_outdated_statuses(
    store: Store, params: dict[str, Any], contradicted: list[Any], gone: list[Any]
) -> None:
    """Delete the status rows that contradict the run's (``_CONTRADICTED``: build and
    vulnerability) and those of builds that left the set (``_GONE``).

    Waited for on a ClickHouse server, the only store the ALTRepo API can read: once the
    run returns, it reads the new statuses only. Not waited for on the embedded store,
    which no other process reads (waiting cost 0.09-0.3 s a run in the benchmark, for
    background merges).
    """
    if not contradicted and not gone:
        return
    hashes = [int(pkg_hash) for pkg_hash, _ in contradicted]
    vulns = [str(vuln) for _, vuln in contradicted]
    pairs = {"hashes": hashes, "vulns": vulns}
    store.command(
        _OUTDATED_STATUS + unwaited(store), {**params, **pairs, "gone": [int(h) for h in gone]}
    )


def _record_run(
    store: Store,
    params: dict[str, Any],
    base: _Base,
    started: datetime,
    *,
    kind: str,
    counts: tuple[Any, ...],
) -> MatchRun:
    """Write the run's row (last: the next run builds on it) and say what the run did."""
    changed, matches, verdicts, added = (int(n) for n in counts)
    store.command(
        _RUN_ROW,
        {
            **params,
            "kind": kind,
            "vuln_now": _ms(base.vuln_ts),
            "verdicts": verdicts,
            "format": _FORMAT,
        },
    )
    seconds = (datetime.now(UTC) - started).total_seconds()
    branch = params["branch"]
    log.info("branch rematched", extra={"branch": branch, "kind": kind, "seconds": seconds})
    order = VersionOrder(params["order"])
    return MatchRun(branch, order, kind, changed, matches, verdicts, seconds, added)


@dataclass(frozen=True)
class _Last:
    """The previous run an incremental one builds on."""

    root: uuid.UUID
    targets: datetime
    vuln_ts: datetime
    ran: datetime


@dataclass(frozen=True)
class _Base:
    """The newest vulnerability row now, and the previous run if an incremental run may
    build on it."""

    vuln_ts: datetime
    root: uuid.UUID | None  # the branch's newest package set (None: the branch has none)
    last: _Last | None
    errata: bool  # the branch has errata (else their evidence is not looked for)
    triage: bool  # triage rows exist
    checked: bool  # ALT's manual checks (CveChecked) exist
    #: Nothing written since ``last`` that a run would rematch (an incremental run then
    #: only records itself: its statements would find no pair to change).
    unchanged: bool = False
    #: No record, triage row, check or erratum written since ``last``: the run's
    #: ``changes`` table is empty, so a run after a new package set matches the added
    #: packages only (``_match_sql``).
    no_changes: bool = False


def _kept_rows() -> list[str]:
    """The statements that copy the previous generation's rows of the packages still in
    the set into the run's generation (``_KEEP``)."""
    return [
        _KEEP.format(table=table, columns=columns, copied=columns.split(", ", 1)[1])
        for table, columns in _GENERATION_COLUMNS.items()
    ]


_DROP_OLD: Final = (
    "DELETE FROM {table:Identifier} WHERE pkgset_name = {branch:String} "
    "AND vmt_run < {targets:DateTime64(3)}"
)


def _drop_old_targets(store: Store, params: dict[str, Any]) -> None:
    """Older target generations of the branch are no longer read; a failed delete only
    leaves rows that no query selects, and so does a delete not applied yet, which is
    why the embedded store does not wait for it (``unwaited``)."""
    for table in _GENERATION_COLUMNS:
        store.command(_DROP_OLD + unwaited(store), {**params, "table": table})


_ADDED_WITHOUT_KEYS: Final = """
    SELECT pkg_hash, pkg_epoch, pkg_version, pkg_release FROM {packages:Identifier}
    WHERE change = 'added' AND pkg_hash NOT IN
        (SELECT pkg_hash FROM PackageVersionKeys WHERE vk_order = {order:String}
            AND vk_vr != '')
"""


def _added_version_keys(store: Store, params: dict[str, Any], order: VersionOrder) -> None:
    rows = store.query(_ADDED_WITHOUT_KEYS, params)
    _write_keys(store, rows, order)


def ensure_version_keys(store: Store, *, root: uuid.UUID, order: VersionOrder) -> int:
    """Compute the keys of the set's source packages that have none yet; returns how many."""
    rows = store.query(
        f"SELECT pkg_hash, pkg_epoch, pkg_version, pkg_release FROM ({_SET_SOURCES}) "  # noqa: S608
        "WHERE pkg_hash NOT IN (SELECT pkg_hash FROM PackageVersionKeys "
        "WHERE vk_order = {order:String} AND vk_vr != '')",  # (none before migration 0014)
        {"root": root, "order": order.value},
    )
    return _write_keys(store, rows, order)


def _write_keys(store: Store, rows: list[tuple[Any, ...]], order: VersionOrder) -> int:
    """A package's keys: its version's, its whole EVR's, and its version and release's
    with epoch 0 (``vk_vr``: compared with bounds written without an epoch)."""
    keys = [
        (
            int(h),
            order.value,
            version_key(v, order),
            evr_key(e, v, r, order),
            evr_key(None, v, r, order),
        )
        for h, e, v, r in rows
    ]
    if keys:
        store.insert("PackageVersionKeys", _KEY_COLUMNS, keys)
    return len(keys)


_KEY_COLUMNS: Final = ("pkg_hash", "vk_order", "vk_version", "vk_evr", "vk_vr")


#: What a run writes (``VulnMatchRuns.vmr_format``): 1 = mentions carry their
#: package's name and version (migration 0012); 2 = ``PackagesCveMatch.cpm_cpe_hash`` is
#: the range's ``CpeMatch.cpe_hash``, and no status row contradicts a newer one or
#: belongs to a build that left the set (as the ALTRepo API reads them); 3 = targets carry
#: ``rkey`` (migration 0014: bounds without an epoch take the package's); 4 = a changelog
#: mention's text is the excerpt that names the id, cut between characters
#: (``verdict._EXCERPT_COLUMNS``), and patch lines name ids in any case; 5 = such an
#: excerpt ends in ``…`` only where a line of text was left out (not blank lines). A run
#: builds incrementally only on a run of this format: after an upgrade the first run is a
#: full one, which rewrites every pair that way.
_FORMAT: Final = 5

#: What the store holds now and what changed since the branch's previous run, in one
#: query whose reads are independent subqueries (chDB runs them in parallel; scalar
#: subqueries would run one after another while the query is analysed). Mappings changed
#: and errata discarded since are their tables' newest rows compared with that run.
_PRELUDE: Final = """
SELECT V.vuln_ts, R.roots, if(runs.formatted > 0, [runs.last], []),
    M.newest >= runs.last_run, D.newest >= runs.last_run, E.errata, T.triage, K.checked,
    E.newest >= runs.last_run OR T.newest >= runs.last_run OR K.newest >= runs.last_run
FROM (SELECT max(ts) AS vuln_ts FROM Vulnerabilities) AS V,
    (
        SELECT groupArray(pkgset_uuid) AS roots FROM (SELECT pkgset_uuid FROM PackageSetName
            WHERE pkgset_depth = 0 AND pkgset_nodename = {branch:String}
            ORDER BY pkgset_date DESC LIMIT 1)
    ) AS R,
    (
        SELECT max(ts) AS last_run,
            argMaxIf(tuple(vmr_root, vmr_order, vmr_vuln_ts, ts, vmr_targets), ts,
                vmr_format >= {format:UInt8}) AS last,
            countIf(vmr_format >= {format:UInt8}) AS formatted
        FROM VulnMatchRuns WHERE pkgset_name = {branch:String}
    ) AS runs,
    (SELECT max(ts) AS newest FROM PackagesNameConversion) AS M,
    (SELECT maxIf(ts, ec_type = 'discard') AS newest FROM ErrataChangeHistory) AS D,
    (SELECT count() > 0 AS errata, max(ts) AS newest FROM ErrataHistory
        WHERE pkgset_name = {branch:String}) AS E,
    (SELECT count() AS triage, max(ts) AS newest FROM VulnerabilityStatus) AS T,
    (SELECT count() AS checked, max(ts) AS newest FROM CveChecked) AS K
"""


def _incremental_base(store: Store, branch: str, order: VersionOrder) -> _Base:
    """What the store holds now (the branch's newest package set as ``find_package_set``
    picks it, read in the same query), and the previous run to build on (None when only
    a full rematch is right: none yet, another version order, mappings changed since or
    an erratum discarded since, after which any pair may change)."""
    ((vuln_ts, roots, runs, mappings_changed, discards, errata, triage, checked, named_since),) = (
        store.query(_PRELUDE, {"branch": branch, "format": _FORMAT})
    )
    last = None
    if runs and not mappings_changed and not discards:
        last_root, last_order, last_vuln_ts, last_run, targets = runs[0]
        if last_order == order.value:
            last = _Last(last_root, targets, last_vuln_ts, last_run)
    root = roots[0] if roots else None
    # Nothing to rematch: no record written since the previous run (its ``changes``
    # would select rows with ``ts`` after its ``vmr_vuln_ts``), no triage row and no
    # erratum of the branch since it ran, and the same package set.
    no_changes = last is not None and vuln_ts <= last.vuln_ts and not named_since
    unchanged = no_changes and last is not None and root == last.root
    return _Base(vuln_ts, root, last, errata > 0, triage > 0, checked > 0, unchanged, no_changes)


def _ms(when: datetime) -> str:
    """A DateTime64(3) parameter: the bound text keeps the milliseconds (datetimes lose them)."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _count_current(store: Store) -> int:
    ((count,),) = store.query("SELECT uniqExact(vuln_id) FROM Vulnerabilities")
    return int(count)
