"""``/api/v1/vulns``: verdicts with their evidence, mappings, triage and rematches.

Reads follow the ``/api/v1`` read policy (``ApiRead``); every write (mapping, triage,
rematch) needs the service account (``ApiWrite``) and is recorded with its user name.
The store comes from the same dependency as ``/api/v1/packages``. Bad input answers
422, an unknown vulnerability or branch 404, always as JSON ``{"detail": "..."}``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from repotrack.errors import InputError
from repotrack.rpm import VersionOrder
from repotrack.security import (
    list_mappings,
    record_triage,
    rematch_branch,
    set_mapping,
    unset_mapping,
)
from repotrack.security.errata import branch_errata
from repotrack.security.exports import collect_advisories, csaf_documents, to_osv
from repotrack.security.oval_export import to_oval
from repotrack.security.queries import (
    STATUS_FILTERS,
    branch_verdicts,
    fixed_across_branches,
    last_packages_with_cve_fixed,
    package_verdicts,
    vulnerability_info,
    vulnerability_verdicts,
)
from repotrack.security.triage import TRIAGE_STATUSES
from repotrack.service.deps import ApiRead, ApiWrite, SettingsDep
from repotrack.service.routes.packages import BranchQuery, StoreDep
from repotrack.store import to_plain

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/vulns", tags=["vulnerabilities"])

StatusQuery = Annotated[
    str,
    Query(
        max_length=20,
        pattern=f"^({'|'.join(STATUS_FILTERS)})$",
        description="vulnerable, fixed, not_affected or unknown (empty: any)",
    ),
]
NameQuery = Annotated[str, Query(min_length=1, max_length=200, description="Source package")]


class MappingChange(BaseModel):
    """``POST /api/v1/vulns/mappings``: set or unset one package mapping."""

    package: str = Field(min_length=1, max_length=200)
    result: str = Field(min_length=1, max_length=1000, description="CPE 2.3 or osv:<eco>/<name>")
    action: Literal["set", "unset"] = "set"
    reason: str = Field(default="", max_length=2000)


class TriageDecision(BaseModel):
    """``POST /api/v1/vulns/triage``: one manual decision."""

    vuln_id: str = Field(min_length=1, max_length=200)
    package: str = Field(min_length=1, max_length=200)
    branch: str = Field(default="*", min_length=1, max_length=200)
    status: str = Field(pattern=f"^({'|'.join(TRIAGE_STATUSES)})$")
    reason: str = Field(default="", max_length=2000)
    #: record it though no such record, source package or branch is loaded yet
    force: bool = False


class Rematch(BaseModel):
    """``POST /api/v1/vulns/match``: rematch one branch now."""

    branch: str = Field(min_length=1, max_length=200)
    full: bool = False
    #: rpm or alt; the configured order of the branch (vulns.branch_orders) when left out
    order: Literal["rpm", "alt"] | None = None


@router.get("/package", dependencies=[ApiRead])
def get_package(
    store: StoreDep, branch: BranchQuery, name: NameQuery, status: StatusQuery = ""
) -> Any:
    """Vulnerabilities of a source package in a branch.

    ``GET /api/v1/vulns/package?branch=p10&name=squid`` -> ``[{"branch": "p10",
    "pkg_name": "squid", "version": "6.10", "vuln_id": "CVE-2025-62168", "status": "fixed",
    "reason": "changelog", "evidence": [{"kind": "changelog", "ref": "6.10-alt2", ...}]}]``
    """
    return to_plain(package_verdicts(store, branch=branch, name=name, status=status))


@router.get("/info/{vuln_id}", dependencies=[ApiRead])
def get_info(store: StoreDep, vuln_id: str) -> Any:
    """A loaded record and the records linked to it through ``vuln_references``."""
    return to_plain(vulnerability_info(store, vuln_id=vuln_id))


@router.get("/cve/{vuln_id}", dependencies=[ApiRead])
def get_vulnerability(
    store: StoreDep, vuln_id: str, branch: str = "", status: StatusQuery = ""
) -> Any:
    """Packages a vulnerability touches (every branch unless ``branch`` is given)."""
    return to_plain(vulnerability_verdicts(store, vuln_id=vuln_id, branch=branch, status=status))


@router.get("/branch", dependencies=[ApiRead])
def get_branch(store: StoreDep, branch: BranchQuery, status: StatusQuery = "vulnerable") -> Any:
    """Every verdict of a branch with a status (default: the open ones)."""
    return to_plain(branch_verdicts(store, branch=branch, status=status))


@router.get("/fixed/{vuln_id}", dependencies=[ApiRead])
def get_fixed(store: StoreDep, vuln_id: str) -> Any:
    """Where a vulnerability is fixed across branches: first fixed version, open packages."""
    return to_plain(fixed_across_branches(store, vuln_id=vuln_id))


@router.get("/last_fixed", dependencies=[ApiRead])
def get_last_fixed(
    store: StoreDep, branch: BranchQuery, limit: Annotated[int, Query(ge=1, le=10000)] = 100
) -> Any:
    """Packages whose latest changelog entry names CVEs (ALTRepo's last_packages_with_cve_fixed)."""
    return to_plain(last_packages_with_cve_fixed(store, branch=branch, limit=limit))


@router.get("/errata", dependencies=[ApiRead])
def get_errata(
    store: StoreDep,
    branch: BranchQuery,
    start: Annotated[date, Query(alias="from", description="first UTC day")],
    end: Annotated[date, Query(alias="to", description="last UTC day")],
) -> Any:
    """Errata of a branch updated between two days (latest version of each)."""
    return to_plain(branch_errata(store, branch=branch, start=start, end=end))


@router.get("/export/{branch}", dependencies=[ApiRead], response_model=None)
def get_export(
    store: StoreDep,
    settings: SettingsDep,
    branch: str,
    fmt: Annotated[Literal["osv", "csaf", "oval"], Query(alias="format")],
    ecosystem: str = "",
) -> Any:
    """The branch's state as a JSON list of OSV records or CSAF VEX documents, or as one
    OVAL definitions document (``application/xml``)."""
    vulns = settings.vulns
    advisories = collect_advisories(store, branch=branch)
    if fmt == "oval":
        document = to_oval(
            advisories,
            branch=branch,
            namespace=vulns.oval_namespace,
            release_package=vulns.oval_release_package,
        )
        return Response(
            ET.tostring(document, encoding="utf-8", xml_declaration=True),
            media_type="application/xml",
        )
    if fmt == "osv":
        chosen = ecosystem or vulns.ecosystem(branch)
        if not chosen:
            raise InputError(f"branch {branch} has no OSV ecosystem", field="ecosystem")
        records = [
            to_osv(
                a,
                branch=branch,
                ecosystem=chosen,
                prefix=vulns.osv_id_prefix,
                purl_vendor=vulns.purl_vendor,
            )
            for a in advisories
        ]
        return [r for r in records if r["affected"]]
    return csaf_documents(
        store,
        advisories,
        branch=branch,
        publisher=vulns.csaf_publisher,
        namespace=vulns.csaf_namespace,
        purl_vendor=vulns.purl_vendor,
    )


@router.get("/mappings", dependencies=[ApiRead])
def get_mappings(store: StoreDep, package: str = "") -> Any:
    """Active package → CPE / OSV package mappings."""
    return to_plain(list_mappings(store, pkg_name=package or None))


@router.post("/mappings", dependencies=[ApiWrite])
def post_mapping(store: StoreDep, settings: SettingsDep, change: MappingChange) -> dict[str, str]:
    """Set or unset a mapping; the change history records the service user and reason."""
    write = set_mapping if change.action == "set" else unset_mapping
    write(
        store,
        pkg_name=change.package,
        result=change.result,
        user=settings.service.user,
        reason=change.reason,
    )
    return {"package": change.package, "result": change.result, "action": change.action}


@router.post("/triage", dependencies=[ApiWrite])
def post_triage(store: StoreDep, settings: SettingsDep, decision: TriageDecision) -> dict[str, Any]:
    """Record a manual decision; the next rematch of the branch applies it."""
    record_triage(
        store,
        vuln_id=decision.vuln_id,
        pkg_name=decision.package,
        branch=decision.branch,
        status=decision.status,
        author=settings.service.user,
        reason=decision.reason,
        force=decision.force,
    )
    return decision.model_dump()


@router.post("/match", dependencies=[ApiWrite])
def post_match(store: StoreDep, settings: SettingsDep, request: Rematch) -> Any:
    """Rematch a branch in the configured version order (full or incremental)."""
    order = VersionOrder(request.order or settings.vulns.order(request.branch))
    return to_plain(rematch_branch(store, branch=request.branch, order=order, full=request.full))
