"""Manual triage decisions (``VulnerabilityStatus``, reference/altrepo.md §6.1).

A decision names a vulnerability, a source package and a branch (``*`` = every
branch) and a status; the next rematch of the branch takes it as the strongest
evidence (``verdict.py``). Decisions are appended, never edited: the latest one per
(vulnerability, package, branch) counts, and the older ones stay as history.

A decision applies only where a rematch finds its three names: a loaded record's id, a
source package (or a stand-in, ``set_sources``) of the branch, the branch itself. So
one naming anything else is refused unless forced (``force``: a package or record not
loaded yet). Before 2026-12-07 a typo was recorded, printed back as done and never
applied: the package stayed vulnerable while its maintainer believed it triaged.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Final

from repotrack.errors import InputError, NotFoundError
from repotrack.security.queries import BDU_CVES, BUILT_FROM, NAMING
from repotrack.security.set_sources import set_sources
from repotrack.security.verdict import STATUSES
from repotrack.store.base import Store
from repotrack.store.branches import branch_name, stored_branch
from repotrack.store.queries import find_package_set

__all__ = ["TRIAGE_STATUSES", "record_triage"]

TRIAGE_STATUSES: Final = STATUSES
_VULN_ID: Final = re.compile(r"^[A-Z][A-Z0-9]*[-:][A-Za-z0-9:._-]+$")


def record_triage(
    store: Store,
    *,
    vuln_id: str,
    pkg_name: str,
    branch: str,
    status: str,
    author: str,
    reason: str = "",
    resolution: str = "",
    force: bool = False,
) -> None:
    """Append one decision; the next rematch of ``branch`` applies it.

    Unless ``force``, ``branch`` must hold a package set (``*``: some branch must),
    ``pkg_name`` must be one of its source packages, and ``vuln_id`` a loaded record's
    id: otherwise a NotFoundError says which name matches nothing (``check_names``)."""
    if not _VULN_ID.match(vuln_id):
        raise InputError(f"{vuln_id!r} is not a vulnerability id", field="vuln_id")
    if status not in TRIAGE_STATUSES:
        raise InputError(f"must be one of {', '.join(TRIAGE_STATUSES)}", field="status")
    if not pkg_name or not branch or not author:
        raise InputError("package, branch and author are required", field="pkg_name")
    branch = branch_name(branch)  # as loads store it: a rematch of the branch applies it
    if not force:
        check_names(store, vuln_id=vuln_id, pkg_name=pkg_name, branch=branch)
    now = datetime.now(UTC)
    store.insert(
        "VulnerabilityStatus",
        ("vuln_id", "vs_status", "vs_resolution", "vs_reason", "vs_author", "vs_json",
         "vs_subscribers", "vs_updated"),
        [(vuln_id, status, resolution, reason, author,
          json.dumps({"pkg_name": pkg_name, "branch": branch}), [], now)],
    )  # fmt: skip


_LOADED: Final = "SELECT count() FROM Vulnerabilities WHERE vuln_id = {v:String}"

_BRANCHES: Final = """
    SELECT DISTINCT pkgset_nodename FROM PackageSetName
    WHERE pkgset_depth = 0 AND pkgset_kv.v[indexOf(pkgset_kv.k, 'class')] = 'repository'
    ORDER BY pkgset_nodename
"""

_HAS_SOURCE: Final = f"""
    SELECT count() FROM ({set_sources("root")}) WHERE pkg_name = {{name:String}}
"""  # noqa: S608

_FORCE: Final = " (--force records it anyway, for one not loaded yet)"


def check_names(store: Store, *, vuln_id: str, pkg_name: str, branch: str) -> None:
    """Raise a NotFoundError unless a rematch of ``branch`` (a stored name, or ``*``)
    could apply a decision on ``vuln_id`` and ``pkg_name``: the branch holds a package
    set, the package is one of its source packages (of some branch's for ``*``;
    verdicts are per source package, so a binary's name is answered with its source's)
    and the id is a loaded record's (verdicts carry the id of the record that matched,
    so an id only named by other records is answered with theirs)."""
    if branch == "*":
        branches = [str(b) for (b,) in store.query(_BRANCHES)]
        if not branches:
            raise NotFoundError("no package set of any branch is loaded" + _FORCE)
    else:
        branches = [stored_branch(store, branch)]
    roots = {b: find_package_set(store, branch=b).uuid for b in branches}
    if not any(
        store.query(_HAS_SOURCE, {"root": r, "name": pkg_name})[0][0] for r in roots.values()
    ):
        for name, root in roots.items():
            built_from = store.query(BUILT_FROM, {"name": pkg_name, "root": root})
            if built_from:
                source = str(built_from[0][0])
                raise NotFoundError(
                    f"{pkg_name} is a binary package of {name} built from {source}: "
                    f"decisions are per source package, triage {source}"
                )
        where = "any branch" if branch == "*" else branch
        raise NotFoundError(f"no source package {pkg_name} in {where}" + _FORCE)
    ((loaded,),) = store.query(_LOADED, {"v": vuln_id})
    if not loaded:
        naming = [str(v) for (v,) in store.query(NAMING, {"v": vuln_id}) if v != vuln_id]
        if naming:
            raise NotFoundError(
                f"no record {vuln_id} is loaded; verdicts name the records that mention it: "
                f"triage one of {', '.join(naming)}"
            )
        raise NotFoundError(f"no vulnerability {vuln_id} is loaded" + _FORCE)
    for (cves,) in store.query(BDU_CVES, {"v": vuln_id}):
        named = ", ".join(sorted({str(c) for c in cves})) or "none"
        raise NotFoundError(
            f"{vuln_id} is a BDU record: it has no ranges, so no verdict of its own; "
            f"triage the CVEs it names ({named})"
        )
