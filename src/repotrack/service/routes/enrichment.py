"""``/api/v1/enrichment``: what the feeds say about a package, a branch, a maintainer.

Examples::

    GET /api/v1/enrichment/packages/foo?branch=p10
    -> 200 {"branch": "p10", "name": "foo", "acl": ["ivan", "@qa"],
            "groups": {"@qa": ["anna", "ivan"]}, "beehive": [{"arch": "x86_64",
            "status": "error", "ftbfs_since": "2024-05-29T16:26:40+00:00", ...}],
            "bugs": [{"bz_id": 1, "status": "NEW", ...}], "repocop": [...],
            "watch": [{"new_version": "1.9", "url": "...", ...}], "license": "GPLv2+",
            "licenses": [{"token": "GPLv2+", "spdx_id": "GPL-2.0-or-later", ...}]}
    GET /api/v1/enrichment/ftbfs?branch=p10&arch=x86_64 -> 200 {"branch": "p10", "packages": [...]}
    GET /api/v1/enrichment/newer?branch=p10 -> 200 {"branch": "p10", "packages": [...]}
    GET /api/v1/enrichment/maintainers/ivan?branch=p10 -> 200 {"branch": "p10",
        "maintainer": "ivan", "packages": [{"name": "foo", "leader": true,
        "failing_arches": ["x86_64"], "open_bugs": 1, ...}]}
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from repotrack.rpm import VersionOrder
from repotrack.service.deps import ApiRead, SettingsDep
from repotrack.service.routes.packages import BranchQuery, StoreDep
from repotrack.store import to_plain
from repotrack.store.enrichment import (
    failing_to_build,
    maintainer_dashboard,
    newer_upstream,
    package_feeds,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/enrichment", tags=["enrichment"], dependencies=[ApiRead])

Name = Annotated[str, Path(min_length=1, max_length=200)]


@router.get("/packages/{name}")
def get_package_feeds(store: StoreDep, name: Name, branch: BranchQuery) -> dict[str, Any]:
    """acl (leader first) and groups, beehive per arch, open bugs, repocop, watch, licenses."""
    body: dict[str, Any] = to_plain(package_feeds(store, branch=branch, name=name))
    return body


@router.get("/ftbfs")
def get_ftbfs(
    store: StoreDep,
    branch: BranchQuery,
    arch: Annotated[str | None, Query(max_length=100)] = None,
) -> dict[str, Any]:
    """Packages that failed to build in beehive's newest run of each arch."""
    rows = failing_to_build(store, branch=branch, arch=arch)
    return {"branch": branch, "packages": to_plain(rows)}


@router.get("/newer")
def get_newer(store: StoreDep, settings: SettingsDep, branch: BranchQuery) -> dict[str, Any]:
    """Source packages with a newer upstream version than the branch's (the branch's rpm
    version order: ``vulns.branch_orders``)."""
    order = VersionOrder(settings.vulns.order(branch))
    return {
        "branch": branch,
        "packages": to_plain(newer_upstream(store, branch=branch, order=order)),
    }


@router.get("/maintainers/{nick}")
def get_maintainer(
    store: StoreDep, settings: SettingsDep, nick: Name, branch: BranchQuery
) -> dict[str, Any]:
    """The maintainer dashboard: the nick's packages with their feed states."""
    order = VersionOrder(settings.vulns.order(branch))
    rows = maintainer_dashboard(store, branch=branch, nick=nick, order=order)
    return {"branch": branch, "maintainer": nick, "packages": to_plain(rows)}
