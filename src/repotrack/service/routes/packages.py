"""``/api/v1/packages``, ``/api/v1/diff``, ``/api/v1/store/migrations``: the analytics store.

The store for a request comes from, in order: ``app.state.store`` (one store the
service opened for its lifetime: the owner of an embedded chDB directory),
``app.state.store_factory()`` (a callable returning a fresh store, closed after the
request), or ``open_store(settings.store_url)`` per request. Bad input answers 422,
an unknown branch, day or package 404, always as JSON ``{"detail": "..."}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from repotrack.rpm import VersionOrder
from repotrack.service.deps import ApiRead, SettingsDep
from repotrack.service.params import Offset
from repotrack.store import (
    MAX_LIMIT,
    Store,
    diff_package_sets,
    list_packages,
    migration_status,
    open_store,
    package_info,
    to_plain,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["packages"], dependencies=[ApiRead])


def _store(request: Request) -> Iterator[Store]:
    shared = getattr(request.app.state, "store", None)
    if shared is not None:
        yield shared
        return
    holder = getattr(request.app.state, "store_holder", None)
    if holder is not None:
        yield holder.get()
        return
    factory = getattr(request.app.state, "store_factory", None)
    store = factory() if factory is not None else open_store(request.app.state.settings.store_url)
    try:
        yield store
    finally:
        store.close()


StoreDep = Annotated[Store, Depends(_store)]
BranchQuery = Annotated[str, Query(min_length=1, max_length=200, description="e.g. p10")]
DayQuery = Annotated[
    date | None, Query(alias="date", description="UTC day: the newest set on or before it")
]


@router.get("/packages")
def get_packages(
    store: StoreDep,
    branch: BranchQuery,
    day: DayQuery = None,
    arch: Annotated[str | None, Query(max_length=100)] = None,
    name: Annotated[str | None, Query(max_length=200, description="glob, e.g. lib*")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Packages of a branch's package set.

    ``GET /api/v1/packages?branch=p10&date=2024-05-01&arch=x86_64&name=lib*&limit=2`` ->
    ``{"package_set": {"branch": "p10", "date": "2024-05-01T00:00:00+00:00", ...},
    "total": 2, "limit": 2, "offset": 0, "packages": [{"pkg_hash": "2576980378357562977",
    "name": "libfoo", "epoch": 0, "version": "1.0", "release": "alt1", "arch": "x86_64",
    ...}]}``
    """
    result = list_packages(
        store, branch=branch, day=day, arch=arch, name_glob=name, limit=limit, offset=offset
    )
    body: dict[str, Any] = to_plain(result)
    body.update(limit=limit, offset=offset)
    return body


@router.get("/packages/{name}")
def get_package(
    store: StoreDep,
    name: Annotated[str, Path(min_length=1, max_length=200)],
    branch: BranchQuery,
    day: DayQuery = None,
) -> dict[str, Any]:
    """Every build of one package in the set: versions, hashes, files, deps, changelog.

    ``GET /api/v1/packages/foo?branch=p10`` -> ``{"package_set": {...}, "builds":
    [{"package": {"name": "foo", "arch": "src", ...}, "hashes": {"sha256": "..."},
    "files": [...], "depends": [...], "changelog": [...]}]}``
    """
    result: dict[str, Any] = to_plain(package_info(store, name=name, branch=branch, day=day))
    return result


@router.get("/diff")
def get_diff(
    store: StoreDep,
    settings: SettingsDep,
    branch: BranchQuery,
    old: Annotated[date, Query(alias="from", description="first UTC day")],
    new: Annotated[date, Query(alias="to", description="second UTC day")],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = MAX_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Added, removed and updated packages between two days (the branch's rpm version
    order, ``vulns.branch_orders``: ``direction`` -1 is a downgrade in that order).

    ``GET /api/v1/diff?branch=p10&from=2024-05-01&to=2024-06-01`` -> ``{"old_set": {...},
    "new_set": {...}, "added": [...], "removed": [...], "updated": [{"name": "foo",
    "arch": "x86_64", "old": {...}, "new": {...}, "direction": 1}]}``; ``limit`` and
    ``offset`` page each of the three lists.
    """
    order = VersionOrder(settings.vulns.order(branch))
    result = diff_package_sets(store, branch=branch, old_day=old, new_day=new, order=order)
    body: dict[str, Any] = to_plain(result)
    for key in ("added", "removed", "updated"):
        body[f"{key}_total"] = len(body[key])
        body[key] = body[key][offset : offset + limit]
    body.update(limit=limit, offset=offset)
    return body


@router.get("/store/migrations")
def get_store_migrations(store: StoreDep) -> list[dict[str, Any]]:
    """The store's schema migrations and when each was applied (``null``: pending).

    ``GET /api/v1/store/migrations`` -> ``[{"version": 1, "name": "packages",
    "applied": "2024-05-01T10:00:00"}, ...]``; ``repotrack db status`` reads it while
    the service holds the store.
    """
    return [
        {"version": m.version, "name": m.name, "applied": to_plain(m.applied)}
        for m in migration_status(store)
    ]
