"""How a (package, vulnerability) pair gets its status, and the SQL that writes it.

Evidence rows, gathered per pair (``kind``, ``ref``, ``detail``):

- ``range`` / ``range_above`` / ``range_below`` / ``range_unknown``: a ``CpeMatch``
  range of the package's CPE with the package version in it, past its end, before its
  start, or bounds that are no version (ref = the CPE, detail = the bounds);
- ``changelog``: a changelog entry of the package naming the CVE id (ref = the entry's
  EVR, detail = its date and text, or of a long entry the lines that name the id,
  ``_EXCERPT_COLUMNS``): the fix was backported;
- ``patch``: a ``PatchN:`` file name of the package's spec naming the CVE id;
- ``errata``: an erratum of the branch (``ALT-PU`` of a DONE task, or of the branch
  when it has no tasks; not discarded) for the package naming the vulnerability, whose
  build is not newer than the branch's (ref = the errata id, detail = its build);
- ``vex``: a vendor statement that the package is not affected (CSAF VEX
  ``known_not_affected``, OVAL, or a CVE record's ``unaffected`` versions when they
  include the package's; ref = the statement's product, detail = its bounds);
- ``triage``: the latest manual decision (``repotrack vulns triage``) for the package
  and branch (or every branch);
- ``checked``: a check of ALT's manual list (``CveChecked``, ``load vulns cvechecked``)
  that covers the build (``checked.py``; ref = its status, checked version and branch,
  detail = its date and description).

The status, first rule that applies:

1. a triage row → its status (``not_affected``, ``fixed``, ``vulnerable``, ``unknown``);
2. a check of ALT's list → ``fixed`` (``patched``) or ``not_affected``
   (``manually_excluded``), the newest check deciding (reason ``checked``);
3. a vendor's not-affected statement → ``not_affected`` (reason ``vex``), unless the
   same stream (``osv:<stream>/``) has a range for another name of the package that no
   statement covers: vendors now speak of binaries (Red Hat's CSAF: bind-libs fixed,
   bind-devel not affected), and a source package mapped to all of its binaries' names
   is judged by the binaries with ranges then;
4. an erratum, a changelog entry or a patch → ``fixed`` (reason ``errata``,
   ``changelog`` or ``patch``, in that order);
5. a range containing the version → ``vulnerable`` (``range``);
6. a range with free-text bounds → ``unknown`` (``unknown_bounds``);
7. only ranges the version is past → ``fixed`` (``newer_version``);
8. only ranges the version is before → ``not_affected`` (``before_range``).

Every verdict row stores all its evidence, so a reader sees why, not only what.
"""

from __future__ import annotations

import re
from typing import Final

from repotrack.security.checked import CHECKED_EVIDENCE
from repotrack.security.set_sources import SOURCE_NVR, members, orphaned, stand_in_id

__all__ = [
    "ELLIPSIS",
    "EVIDENCE_ORDER",
    "EXCERPT_CHARS",
    "MENTIONS_SQL",
    "STATUSES",
    "covered",
    "evidence_key",
    "evidence_sql",
    "verdict_digest_sql",
    "verdict_sql",
]

STATUSES: Final = ("unknown", "vulnerable", "fixed", "not_affected")

#: The source packages an incremental run matches against everything (new in the set).
_ADDED: Final = "(SELECT pkg_hash FROM {packages:Identifier} WHERE change = 'added')"

_CVE_PATTERN: Final = "CVE-[0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9]+"

#: The branch's source packages as of the run's targets generation (matching.py writes it).
_SOURCES: Final = """
    (SELECT pkg_hash, pkg_name, pkg_version, pkg_release, ekey FROM VulnMatchTargets
     WHERE pkgset_name = {branch:String} AND vmt_run = {targets:DateTime64(3)} AND vendor = ''
        AND product = '' AND pkg_cpe = '')
"""

#: The source packages whose changelog and patch mentions a run writes: every one (full)
#: or the added ones (incremental after a package-set change), less those written already.
_MENTIONED: Final = f"""
    (SELECT pkg_hash FROM {_SOURCES} WHERE ({{everything:UInt8}} OR pkg_hash IN {_ADDED})
        AND pkg_hash NOT IN (SELECT pkg_hash FROM VulnMatchMentions
            WHERE pkgset_name = {{branch:String}} AND vmt_run = {{targets:DateTime64(3)}}))
"""  # noqa: S608

#: The changelogs of the run's mentioned sources: a source package's own, or for a
#: stand-in (``set_sources``) its binaries' in the set (one build's binaries carry its
#: changelog; their repeats are one row after the ``DISTINCT`` below).
_CHANGELOGS: Final = f"""
    (
        SELECT pkg_hash, pkg_changelog.hash AS hashes, pkg_changelog.date AS dates,
            pkg_changelog.evr AS evrs
        FROM Packages_buffer
        WHERE pkg_sourcepackage = 1 AND pkg_hash IN {_MENTIONED}
        UNION ALL
        SELECT stand_in AS pkg_hash, hashes, dates, evrs FROM
        (
            -- (an alias pkg_hash here would be what WHERE reads instead of the column)
            SELECT {stand_in_id(SOURCE_NVR)} AS stand_in, pkg_changelog.hash AS hashes,
                pkg_changelog.date AS dates, pkg_changelog.evr AS evrs
            FROM Packages_buffer
            WHERE pkg_sourcepackage = 0 AND pkg_hash IN {members("root")}
                AND {orphaned(members("root"))} AND stand_in IN {_MENTIONED}
        )
    )
"""  # noqa: S608

#: Characters of a changelog entry a verdict's evidence keeps (after the entry's date).
EXCERPT_CHARS: Final = 500
#: Where an excerpt leaves text out: alone on a line for left-out lines, at the start or
#: end of a line cut short.
ELLIPSIS: Final = "\u2026"
#: Characters of a long line an excerpt keeps, from ``_LEAD`` before the CVE id it names.
_LINE_CHARS: Final = 200
_LEAD: Final = 80


def _kept_line(line: str) -> str:
    """SQL: the line ``line`` as an excerpt keeps it: whole when short (or when the whole
    entry is, ``x_short``), else ``_LINE_CHARS`` characters from a little before the id
    ``cve`` (from its start when it names none), with an ellipsis where it is cut.
    Counted in characters: ALT's changelogs are often Russian, two bytes a letter, and a
    cut inside a letter is text no terminal or JSON answer can carry."""
    start = f"greatest(1, positionUTF8({line}, cve) - {_LEAD})"
    return (
        f"if(x_short OR lengthUTF8({line}) <= {_LINE_CHARS}, {line}, concat("
        f"if({start} > 1, '{ELLIPSIS}', ''), substringUTF8({line}, {start}, {_LINE_CHARS}), "
        f"if({start} + {_LINE_CHARS} <= lengthUTF8({line}), '{ELLIPSIS}', '')))"
    )


#: What a changelog verdict's evidence keeps of the entry ``text`` that names the id
#: ``cve`` (``x_excerpt``): the whole entry when it is short (``x_short``: every line kept
#: whole); else its first line and every line that names the id (a long entry lists many
#: fixes, and the one that justifies the verdict may come twentieth), an ellipsis line for
#: each run of lines left out (blank lines at the end are not text left out), and no more
#: than ``EXCERPT_CHARS`` characters in all. Each step is a column of its own, and no
#: ``if`` chooses between the entry and the lines: an ``if`` whose branch holds lambdas is
#: evaluated branch by branch on the rows that take it, which made 30 000 long entries
#: take 0.45-0.5 s instead of 0.04 s.
_EXCERPT_COLUMNS: Final = f"""
    lengthUTF8(text) <= {EXCERPT_CHARS} AS x_short,
    splitByChar('\\n', text) AS x_lines,
    arrayMap((l, i) -> x_short OR i = 1 OR position(l, cve) > 0, x_lines,
        arrayEnumerate(x_lines)) AS x_named,
    arrayFilter((l, k) -> k, x_lines, x_named) AS x_kept,
    arrayFilter((i, k) -> k, arrayEnumerate(x_lines), x_named) AS x_at,
    concat(
        arrayStringConcat(arrayMap(
            (l, i, b) -> concat(if(b > 0 AND i - b > 1, '{ELLIPSIS}\\n', ''), {_kept_line("l")}),
            x_kept, x_at, arrayPushFront(arrayPopBack(x_at), 0)), '\\n'),
        if(arrayMax(x_at) < arrayLastIndex(l -> notEmpty(trimBoth(l)), x_lines),
            '\\n{ELLIPSIS}', '')) AS x_joined,
    if(lengthUTF8(x_joined) <= {EXCERPT_CHARS}, x_joined,
        concat(substringUTF8(x_joined, 1, {EXCERPT_CHARS - 1}), '{ELLIPSIS}')) AS x_excerpt
"""

#: The mentioned sources' changelogs (``_CHANGELOGS``) in the run's scratch table
#: ``{changelogs}``: ``_CHANGELOG_EVIDENCE`` reads them twice, and as a subquery they were
#: read twice (30 ms each after a new snapshot of ``benchmarks/vuln_match.py``).
_CHANGELOG_ROWS: Final = f"""
CREATE SCRATCH TABLE {{changelogs:Identifier}} ENGINE = Memory AS
SELECT pkg_hash, hashes, dates, evrs FROM {_CHANGELOGS}
"""  # noqa: S608

_CHANGELOG_EVIDENCE: Final = f"""
    SELECT DISTINCT E.pkg_hash AS pkg_hash, C.cve AS vuln_id, 'changelog' AS kind, E.evr AS ref,
        concat(toString(toDate(E.cdate)), ': ', C.x_excerpt) AS detail,
        '' AS hint, toDateTime64(0, 3) AS hint_ts
    FROM
    (
        SELECT pkg_hash, entry.1 AS chash, entry.2 AS cdate, entry.3 AS evr
        FROM {{changelogs:Identifier}}
        ARRAY JOIN arrayZip(hashes, dates, evrs) AS entry
    ) AS E
    INNER JOIN
    (
        SELECT chlog_hash, cve, {_EXCERPT_COLUMNS}
        FROM
        (
            SELECT chlog_hash, any(chlog_text) AS text,
                arrayDistinct(extractAll(text, '{_CVE_PATTERN}')) AS cves
            FROM Changelog_buffer
            WHERE chlog_hash IN (SELECT arrayJoin(hashes) FROM {{changelogs:Identifier}})
            GROUP BY chlog_hash
            HAVING notEmpty(cves)
        )
        ARRAY JOIN cves AS cve
    ) AS C ON C.chlog_hash = E.chash
"""  # noqa: S608

#: A spec's ``PatchN:`` lines that name a CVE id, and the ids they name, whatever their
#: case (rpm reads ``patch1:`` as ``Patch1:``, and a file may be ``foo-cve-2022-1234.patch``);
#: the id is written as NVD writes it.
_PATCH_EVIDENCE: Final = f"""
    SELECT DISTINCT F.pkg_hash AS pkg_hash, upper(found) AS vuln_id, 'patch' AS kind,
        trim(replaceRegexpOne(line, '(?i)^Patch[0-9]*:', '')) AS ref, F.specfile_name AS detail,
        '' AS hint, toDateTime64(0, 3) AS hint_ts
    FROM
    (
        SELECT pkg_hash, specfile_name, specfile_content FROM Specfiles_buffer
        WHERE pkg_hash IN {_MENTIONED}
    ) AS F
    ARRAY JOIN extractAll(F.specfile_content, '(?im)^Patch[0-9]*:[^\\n]*CVE-[^\\n]*') AS line
    ARRAY JOIN extractAll(line, '(?i){_CVE_PATTERN}') AS found
"""  # noqa: S608

#: Errata of the branch (not discarded; task errata only of DONE tasks) naming the
#: vulnerability, for a build of the same package not newer than the branch's one.
_ERRATA_EVIDENCE: Final = f"""
    SELECT S.pkg_hash AS pkg_hash, E.link AS vuln_id, 'errata' AS kind, E.errata_id AS ref,
        concat(E.pkg_version, '-', E.pkg_release) AS detail, '' AS hint,
        toDateTime64(0, 3) AS hint_ts, S.pkg_name AS pkg_name, S.pkg_version AS pkg_version,
        S.pkg_release AS pkg_release
    FROM {_SOURCES} AS S
    INNER JOIN
    (
        SELECT L.*, link, EK.vk_evr AS errata_key
        FROM
        (
            SELECT errata_id_noversion, argMax(errata_id, errata_id_version) AS errata_id,
                argMax(pkg_name, errata_id_version) AS pkg_name,
                argMax(pkg_hash, errata_id_version) AS pkg_hash,
                argMax(pkg_version, errata_id_version) AS pkg_version,
                argMax(pkg_release, errata_id_version) AS pkg_release,
                argMax(eh_type, errata_id_version) AS etype,
                argMax(task_state, errata_id_version) AS tstate,
                argMax(eh_references.type, errata_id_version) AS ref_types,
                argMax(eh_references.link, errata_id_version) AS ref_links
            FROM ErrataHistory
            WHERE pkgset_name = {{branch:String}} AND eh_type IN ('task', 'branch')
            GROUP BY errata_id_noversion
        ) AS L
        ARRAY JOIN ref_types AS ref_type, ref_links AS link
        LEFT JOIN
        (
            SELECT pkg_hash, any(vk_evr) AS vk_evr FROM PackageVersionKeys
            WHERE vk_order = {{order:String}} AND pkg_hash IN
                (SELECT pkg_hash FROM ErrataHistory WHERE pkgset_name = {{branch:String}})
            GROUP BY pkg_hash
        ) AS EK ON EK.pkg_hash = L.pkg_hash
        WHERE ref_type = 'vuln' AND (L.etype = 'branch' OR L.tstate = 'DONE')
            AND L.errata_id NOT IN (SELECT errata_id FROM last_discarded_erratas)
            AND @LINKS@
    ) AS E ON E.pkg_name = S.pkg_name
    WHERE (E.errata_key = '' OR S.ekey >= E.errata_key) AND @COVERED(E.link, S.pkg_hash)@
"""  # noqa: S608

_TRIAGE_EVIDENCE: Final = f"""
    SELECT S.pkg_hash AS pkg_hash, T.vuln_id AS vuln_id, 'triage' AS kind, T.author AS ref,
        concat(T.status, if(T.reason != '', concat(': ', T.reason), '')) AS detail,
        T.status AS hint, T.updated AS hint_ts, S.pkg_name AS pkg_name,
        S.pkg_version AS pkg_version, S.pkg_release AS pkg_release
    FROM {_SOURCES} AS S
    INNER JOIN
    (
        SELECT vuln_id, JSONExtractString(vs_json, 'pkg_name') AS pkg_name,
            JSONExtractString(vs_json, 'branch') AS branch, argMax(vs_status, ts) AS status,
            argMax(vs_reason, ts) AS reason, argMax(vs_author, ts) AS author, max(ts) AS updated
        FROM VulnerabilityStatus
        GROUP BY vuln_id, pkg_name, branch
        HAVING branch IN ({{branch:String}}, '*') AND @IDS@
    ) AS T ON T.pkg_name = S.pkg_name
    WHERE @COVERED(T.vuln_id, S.pkg_hash)@
"""  # noqa: S608

#: A full rematch stores the branch's changelog and patch mentions once (the package set
#: is the same for the incremental runs that follow, so are the mentions); an incremental
#: run after a package-set change adds those of the added packages to the same generation.
_MENTIONS: Final = f"""
INSERT INTO VulnMatchMentions (pkgset_name, vmt_run, vuln_id, pkg_hash, kind, ref, detail,
    pkg_name, pkg_version, pkg_release)
SELECT {{branch:String}}, {{targets:DateTime64(3)}}, M.vuln_id, M.pkg_hash, M.kind, M.ref,
    M.detail, S.pkg_name, S.pkg_version, S.pkg_release
FROM ({_CHANGELOG_EVIDENCE} UNION ALL {_PATCH_EVIDENCE}) AS M
INNER JOIN {_SOURCES} AS S ON S.pkg_hash = M.pkg_hash
"""  # noqa: S608

#: The statements that write the mentions of a run's new targets generation (the run's
#: scratch table ``{changelogs}`` first).
MENTIONS_SQL: Final = (_CHANGELOG_ROWS, _MENTIONS)

#: The run's mentions (all, or the changed vulnerabilities' and the added packages'), each
#: with its package's name and version as the targets generation has them.
_MENTION_EVIDENCE: Final = """
    SELECT pkg_hash, vuln_id, kind, ref, detail, '' AS hint, toDateTime64(0, 3) AS hint_ts,
        pkg_name, pkg_version, pkg_release
    FROM VulnMatchMentions
    WHERE pkgset_name = {branch:String} AND vmt_run = {targets:DateTime64(3)}
        AND @COVERED(vuln_id, pkg_hash)@
"""


_RANGE_EVIDENCE: Final = """
    SELECT pkg_hash, vuln_id,
        multiIf(position = 0, 'range', position = 1, 'range_above', position = -1,
            'range_below', position = 3, 'vex', 'range_unknown') AS kind,
        cpm_cpe AS ref, bounds AS detail, '' AS hint, toDateTime64(0, 3) AS hint_ts,
        pkg_name, pkg_version, pkg_release
    FROM {scratch:Identifier}
    WHERE position != 4
"""


def covered(*, full: bool, new_packages: bool, vuln: str, package: str, change: str) -> str:
    """The condition that keeps the rows a run covers: every row (full run), the changed
    vulnerabilities' (column ``vuln``), and after a package-set change also the added or
    removed (``change``) packages' (column ``package``). Written for the run's kind, so a
    statement reads no scratch table the run has not made and builds no set it need not."""
    if full:
        return "1"
    ids = f"{vuln} IN (SELECT vuln_id FROM {{changes:Identifier}})"  # noqa: S608
    if not new_packages:
        return ids
    return (
        f"({ids} OR {package} IN (SELECT pkg_hash FROM {{packages:Identifier}}"  # noqa: S608
        f" WHERE change = '{change}'))"
    )


def evidence_sql(
    *, full: bool, new_packages: bool, errata: bool, triage: bool, checked: bool = False
) -> str:
    """The statement that writes every evidence row of the run's pairs into the run's
    scratch table ``{evidence}``; ``errata``/``triage``/``checked`` False leaves out the
    part that looks for errata, triage rows or ALT's checks (matching.py knows when the
    store holds none; the checks' part takes ``checked.checked_params``). The filters are
    written for the run's kind (``covered``)."""
    parts = [_RANGE_EVIDENCE, _MENTION_EVIDENCE]
    parts += [_ERRATA_EVIDENCE] if errata else []
    parts += [_TRIAGE_EVIDENCE] if triage else []
    parts += [CHECKED_EVIDENCE] if checked else []
    links = "1" if full or new_packages else "link IN (SELECT vuln_id FROM {changes:Identifier})"
    ids = "1" if full or new_packages else "vuln_id IN (SELECT vuln_id FROM {changes:Identifier})"
    return "CREATE SCRATCH TABLE {evidence:Identifier} ENGINE = Memory AS\n" + re.sub(
        r"@COVERED\(([^,]+), ([^)]+)\)@",
        lambda m: covered(
            full=full, new_packages=new_packages, vuln=m[1], package=m[2], change="added"
        ),
        "\nUNION ALL\n".join(parts).replace("@LINKS@", links).replace("@IDS@", ids),
    )


#: The current record's hash of each vulnerability with evidence (0 for an id no record
#: has, such as one only a triage row names): read from ``Vulnerabilities``, or, in an
#: incremental run for changed vulnerabilities only, from the run's ``{changes}`` table,
#: which holds them already.
_HASHES: Final = """
    (
        SELECT vuln_id, argMax(vuln_hash, ts) AS vuln_hash FROM Vulnerabilities
        WHERE @WHICH@
        GROUP BY vuln_id
    )
"""
_EVIDENCE: Final = "(SELECT @COLUMNS@ FROM {evidence:Identifier})"
_CHANGED_HASHES: Final = "(SELECT vuln_id, vuln_hash FROM {changes:Identifier})"


#: Pairs of the branch's previous verdicts that the run covers (every pair, a changed
#: vulnerability's, a removed package's) and no longer finds: ``unknown``/``unmatched``.
#: A pair whose package name has evidence in this run for another build is left out:
#: that build's verdict replaces it (queries read the latest verdict per package name).
#: The previous verdicts are read from their copy sorted by vulnerability (migration
#: 0012), so an incremental run reads the index ranges of its changed vulnerabilities;
#: ``FINAL`` keeps the latest row per pair (the table's key) and costs less than grouping.
_UNMATCHED: Final = """
SELECT pkgset_name, pkg_hash, pkg_name, pkg_version, pkg_release, vuln_id, vuln_hash,
    'unknown', 'unmatched', CAST([] AS Array(String)), CAST([] AS Array(String)),
    CAST([] AS Array(String)), {ts:DateTime64(3)}
FROM VulnVerdictsByVuln FINAL
WHERE pkgset_name = {branch:String} AND @COVERED@ AND pvv_reason != 'unmatched'
    AND (pkg_name, vuln_id) NOT IN @EVIDENCE@
"""


#: The evidence kinds in the order of the rules above (the first kind a pair has decides),
#: each with the status and the reason it gives (a triage row or a check gives its own).
_RULES: Final = (
    ("triage", "", "triage"),
    ("checked", "", "checked"),
    ("vex", "not_affected", "vex"),
    ("errata", "fixed", "errata"),
    ("changelog", "fixed", "changelog"),
    ("patch", "fixed", "patch"),
    ("range", "vulnerable", "range"),
    ("range_unknown", "unknown", "unknown_bounds"),
    ("range_above", "fixed", "newer_version"),
    ("range_below", "not_affected", "before_range"),
)
_KINDS: Final = [kind for kind, _, _ in _RULES]
#: The order a verdict's evidence rows are stored and read in: by the rule they stand for
#: (the deciding one first), then by what they name. The engine hands them over in any
#: order, one that changed from run to run before 2026-12-07 (4 474 of 16 280 verdicts of
#: ``benchmarks/vuln_match.py`` between two full rematches), and so did every listing and
#: export made from them (a CSAF document got a new version for it).
EVIDENCE_ORDER: Final = tuple(_KINDS)


def verdict_digest_sql(table: str = "") -> str:
    """SQL: what a verdict says, as a number: its build, status, reason and evidence rows
    in any order, of the verdict columns of ``table`` (an alias, or none). The default of
    ``pvv_digest`` (migration 0019) is the same expression, and must stay so: a rematch
    that finds a pair's verdict unchanged by it keeps the verdict's ``pvv_since``."""
    t = f"{table}." if table else ""
    evidence = ", ".join(f"{t}`pvv_evidence.{part}`" for part in ("kind", "ref", "detail"))
    return (
        f"cityHash64({t}pkg_hash, toString({t}pvv_status), toString({t}pvv_reason), "
        f"arraySort(arrayZip({evidence})))"
    )


def evidence_key(kind: str, ref: str, detail: str) -> tuple[int, str, str, str]:
    """Sort key of an evidence row, as the verdict statement sorts them (strings compare
    as their UTF-8 bytes there, which is the order of their code points here)."""
    rank = EVIDENCE_ORDER.index(kind) + 1 if kind in EVIDENCE_ORDER else len(EVIDENCE_ORDER)
    return (rank, kind, ref, detail)


#: Range evidence: where a package's version lies in a range (or its bounds are no version).
_RANGE_KINDS: Final = ("range", "range_unknown", "range_above", "range_below")
_RANKS: Final = list(range(1, len(_RULES) + 1))
_STATUSES: Final = [status for _, status, _ in _RULES]
_REASONS: Final = [reason for _, _, reason in _RULES]


def verdict_sql(*, full: bool, new_packages: bool) -> str:
    """The statement that writes one verdict per pair of ``{evidence}``, and
    the ``unmatched`` ones, into the run's scratch table ``{verdicts}`` (columns as
    ``PackagesVulnerabilityVerdict``; matching.py copies it to the store). Each evidence
    row carries its package's name and version, so the verdicts are made from the
    evidence alone; an incremental run for changed vulnerabilities only takes the
    records' hashes from ``{changes}`` (every vulnerability of the run is in it)."""
    if full or new_packages:
        which = "1" if full else "vuln_id IN " + _EVIDENCE.replace("@COLUMNS@", "vuln_id")
        hashes = _HASHES.replace("@WHICH@", which)
    else:
        hashes = _CHANGED_HASHES
    unmatched = _UNMATCHED.replace(
        "@COVERED@",
        covered(
            full=full,
            new_packages=new_packages,
            vuln="vuln_id",
            package="pkg_hash",
            change="removed",
        ),
    ).replace("@EVIDENCE@", _EVIDENCE.replace("@COLUMNS@", "pkg_name, vuln_id"))
    return f"""
CREATE SCRATCH TABLE {{verdicts:Identifier}} ENGINE = Memory AS
SELECT {{branch:String}} AS pkgset_name, A.pkg_hash AS pkg_hash, A.pkg_name AS pkg_name,
    A.pkg_version AS pkg_version, A.pkg_release AS pkg_release, A.vuln_id AS vuln_id,
    C.vuln_hash AS vuln_hash, A.status AS pvv_status, A.reason AS pvv_reason,
    A.kinds AS `pvv_evidence.kind`, A.refs AS `pvv_evidence.ref`,
    A.details AS `pvv_evidence.detail`, {{ts:DateTime64(3)}} AS ts
FROM
(
    SELECT pkg_hash, vuln_id, any(pkg_name) AS pkg_name, any(pkg_version) AS pkg_version,
        any(pkg_release) AS pkg_release,
        -- evidence in one order, the deciding rule's first (``EVIDENCE_ORDER``)
        arraySort(groupArray(tuple(rank, kind, ref, detail))) AS ordered,
        arrayMap(e -> tupleElement(e, 2), ordered) AS kinds,
        arrayMap(e -> tupleElement(e, 3), ordered) AS refs,
        arrayMap(e -> tupleElement(e, 4), ordered) AS details,
        hasAny(groupUniqArrayIf(stream, kind = 'vex' AND stream != ''),
            groupUniqArrayIf(stream, ranged AND NOT ref_vex AND stream != '')) AS split,
        if(split, minIf(rank, kind != 'vex' AND NOT (ranged AND ref_vex)), min(rank)) AS best,
        argMaxIf(hint, hint_ts, kind = 'triage') AS triage_status,
        argMaxIf(hint, tuple(hint_ts, hint), kind = 'checked') AS checked_status,
        multiIf(best = 1, triage_status, best = 2, checked_status,
            transform(best, {_RANKS}, {_STATUSES}, 'unknown')) AS status,
        transform(best, {_RANKS}, {_REASONS}, 'before_range') AS reason
    FROM
    (
        SELECT *, transform(kind, {_KINDS}, {_RANKS}, {len(_REASONS)}) AS rank,
            kind IN {_RANGE_KINDS} AS ranged,
            if(startsWith(ref, 'osv:'), replaceRegexpOne(ref, '/[^/]*$', ''), '') AS stream,
            max(kind = 'vex') OVER (PARTITION BY pkg_hash, vuln_id, ref) AS ref_vex
        FROM {{evidence:Identifier}}
    )
    GROUP BY pkg_hash, vuln_id
) AS A
LEFT JOIN {hashes} AS C ON C.vuln_id = A.vuln_id
UNION ALL
{unmatched}
"""  # noqa: S608
