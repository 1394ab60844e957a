"""ALT's manual CVE checks (``CveChecked``) as evidence of a verdict.

A check says that a source package is ``patched`` for a CVE (→ ``fixed``) or that the CVE
was ``manually_excluded`` for it (→ ``not_affected``: a false match), for the versions
and branches it names (``sources.vulns.cve_checked``). A check is evidence of kind
``checked`` for each build of the branch that one of its checked versions covers: the
branch is the run's or ``*``, and the build's version satisfies the condition (``*``:
every build; a plain EVR: that build and later ones; ``< 4``: below). Versions are
compared in the branch's version order, through the same sortable keys as ranges
(``rpm.verkey``), computed here for the checks, which ALTRepo stores as text; a
condition without an epoch compares the build's version and release alone, as a range
without an epoch does. The newest check (``cc_checkdate``) of a pair decides.

Checks rank right after repotrack's own triage rows (``repotrack vulns triage``): both
are a maintainer's decision, the triage row being the newer tool's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from repotrack.rpm import VersionOrder, evr_key, version_key
from repotrack.sources.vulns.cve_checked import CHECK_STATUSES, parse_condition
from repotrack.store.base import Store

__all__ = ["CHECKED_EVIDENCE", "CHECKED_SINCE", "checked_params"]

#: The checks of the branch's packages, rows of ``checked_params``'s arrays, joined to the
#: builds of the run's targets generation whose version their condition covers.
CHECKED_EVIDENCE: Final = """
    SELECT S.pkg_hash AS pkg_hash, C.vuln_id AS vuln_id, 'checked' AS kind, C.ref AS ref,
        C.detail AS detail, C.status AS hint, C.checked AS hint_ts, S.pkg_name AS pkg_name,
        S.pkg_version AS pkg_version, S.pkg_release AS pkg_release
    FROM
    (
        SELECT pkg_hash, pkg_name, pkg_version, pkg_release, vkey, ekey, rkey
        FROM VulnMatchTargets
        WHERE pkgset_name = {branch:String} AND vmt_run = {targets:DateTime64(3)}
            AND vendor = '' AND product = '' AND pkg_cpe = ''
    ) AS S
    INNER JOIN
    (
        SELECT c.1 AS vuln_id, c.2 AS pkg_name, c.3 AS status,
            fromUnixTimestamp64Milli(c.4) AS checked, c.5 AS op, c.6 AS key_kind,
            unhex(c.7) AS bound, c.8 AS ref, c.9 AS detail
        FROM
        (
            SELECT arrayJoin(arrayZip({cc_vulns:Array(String)}, {cc_names:Array(String)},
                {cc_statuses:Array(String)}, {cc_dates:Array(Int64)}, {cc_ops:Array(String)},
                {cc_kinds:Array(String)}, {cc_bounds:Array(String)}, {cc_refs:Array(String)},
                {cc_details:Array(String)})) AS c
        )
    ) AS C ON C.pkg_name = S.pkg_name
    WHERE @COVERED(C.vuln_id, S.pkg_hash)@ AND multiIf(
        C.op = '', 1,
        C.op = '>=', (multiIf(C.key_kind = 'version', S.vkey, C.key_kind = 'vr', S.rkey, S.ekey)
            AS k) >= C.bound,
        C.op = '>', k > C.bound,
        C.op = '<=', k <= C.bound,
        C.op = '<', k < C.bound,
        k = C.bound)
"""

#: The CVEs of checks written since the previous run (an incremental run rematches them).
CHECKED_SINCE: Final = (
    "SELECT cve_id AS vuln_id FROM CveChecked WHERE ts >= {last_run:DateTime64(3)}"
)

_ROWS: Final = """
    SELECT cve_id, pkg_name, cc_status, toUnixTimestamp64Milli(toDateTime64(cc_checkdate, 3)),
        cc_description, `cc_checked_ver.pkg_evr`, `cc_checked_ver.pkg_branch`
    FROM CveChecked
    WHERE has(`cc_checked_ver.pkg_branch`, {branch:String})
        OR has(`cc_checked_ver.pkg_branch`, '*')
"""


def checked_params(store: Store, *, branch: str, order: VersionOrder) -> dict[str, list[Any]]:
    """The parameters of ``CHECKED_EVIDENCE``: one entry per checked version of a check that
    names ``branch`` or ``*``, with its bound's key in ``order``. A checked version that is
    no version (a row written into the table by other means than ``load vulns``) is left
    out: it covers no build."""
    names = ("vulns", "names", "statuses", "dates", "ops", "kinds", "bounds", "refs", "details")
    params: dict[str, list[Any]] = {f"cc_{name}": [] for name in names}
    for cve_id, pkg_name, status, checked, description, evrs, branches in store.query(
        _ROWS, {"branch": branch}
    ):
        for evr, where in zip(evrs, branches, strict=False):
            if where not in (branch, "*"):
                continue
            try:
                condition = parse_condition(evr, pkg_name)
            except ValueError:
                continue
            if not condition.op:
                kind, key = "", b""
            elif condition.release == "":
                kind, key = "version", version_key(condition.version, order)
            elif condition.epoch is None:
                kind = "vr"
                key = evr_key(None, condition.version, condition.release, order)
            else:
                kind = "evr"
                key = evr_key(condition.epoch, condition.version, condition.release, order)
            entry = (
                cve_id,
                pkg_name,
                CHECK_STATUSES.get(status, "unknown"),
                int(checked),
                condition.op,
                kind,
                key.hex(),  # bound as text (keys are bytes; unhex() in the query)
                f"{status} {evr} ({where})",
                f"{datetime.fromtimestamp(checked / 1000, UTC):%Y-%m-%d}: {description}",
            )
            for name, value in zip(names, entry, strict=True):
                params[f"cc_{name}"].append(value)
    return params
