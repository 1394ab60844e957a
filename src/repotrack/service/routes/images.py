"""``/api/v1/images``: loaded images, their packages, images holding a package, diffs.

The same queries as ``repotrack query image|images|image-diff|image-find``
(``repotrack.store.image_queries``); the store comes from the same dependency as the
package routes. Tags contain ``:``, so they travel as query parameters. Bad input
answers 422, an unknown tag or day 404, as JSON ``{"detail": "..."}``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from repotrack.rpm import VersionOrder
from repotrack.service.deps import ApiRead, SettingsDep
from repotrack.service.routes.packages import StoreDep
from repotrack.store import to_plain
from repotrack.store.image_queries import (
    diff_image_with_branch,
    diff_images,
    image_packages,
    images_with_package,
    list_images,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/images", tags=["images"], dependencies=[ApiRead])

TagQuery = Annotated[
    str,
    Query(min_length=1, max_length=1000, description="branch:edition:flavor:...:type"),
]
DayQuery = Annotated[
    date | None, Query(alias="date", description="UTC day: the newest image on or before it")
]
Text = Annotated[str | None, Query(max_length=200)]


@router.get("")
def get_images(store: StoreDep, branch: Text = None, edition: Text = None) -> list[Any]:
    """Loaded images, newest first.

    ``GET /api/v1/images?branch=p10`` -> ``[{"uuid": "...", "date": "2024-05-02T00:00:00+00:00",
    "tag": "p10:alt-workstation:::release.10.1.0:x86_64:live:tar", "branch": "p10",
    "edition": "alt-workstation", "version": "10.1.0", "type": "tar", "kv": {...}}]``
    """
    result: list[Any] = to_plain(list_images(store, branch=branch, edition=edition))
    return result


@router.get("/packages")
def get_image_packages(store: StoreDep, tag: TagQuery, day: DayQuery = None) -> dict[str, Any]:
    """An image and its packages.

    ``GET /api/v1/images/packages?tag=p10:cloud:::rc.10.0.0:x86_64:install:qcow`` ->
    ``{"image": {...}, "packages": [{"pkg_hash": "...", "name": "bash", ...}], "unknown": 0}``
    """
    result: dict[str, Any] = to_plain(image_packages(store, tag=tag, day=day))
    return result


@router.get("/find")
def get_images_with_package(
    store: StoreDep,
    settings: SettingsDep,
    name: Annotated[str, Query(min_length=1, max_length=200)],
    branch: Text = None,
    min_version: Annotated[str | None, Query(max_length=200, description="[E:]V[-R]")] = None,
    max_version: Annotated[str | None, Query(max_length=200, description="[E:]V[-R]")] = None,
) -> list[Any]:
    """Images that contain package ``name``, optionally within a version range (inclusive,
    in the version order of each image's branch: ``vulns.branch_orders``).

    ``GET /api/v1/images/find?name=openssl&max_version=3.0.7`` ->
    ``[{"image": {"tag": "...", ...}, "package": {"name": "openssl", "version": "3.0.5", ...}}]``
    """
    hits = images_with_package(
        store,
        name=name,
        branch=branch,
        min_version=min_version,
        max_version=max_version,
        order_of=lambda branch: VersionOrder(settings.vulns.order(branch)),
    )
    result: list[Any] = to_plain(hits)
    return result


@router.get("/diff")
def get_image_diff(
    store: StoreDep,
    settings: SettingsDep,
    tag: TagQuery,
    other: Annotated[
        str | None,
        Query(max_length=1000, description="second tag; absent: the branch snapshot of the date"),
    ] = None,
    day: DayQuery = None,
) -> dict[str, Any]:
    """Added, removed and updated packages between two images, or an image and its branch
    (in the version order of the new side's branch: ``vulns.branch_orders``).

    ``GET /api/v1/images/diff?tag=A&other=B`` -> ``{"old_set": {...}, "new_set": {...},
    "added": [...], "removed": [...], "updated": [{"name": ..., "direction": 1, ...}]}``
    """

    def order_of(branch: str) -> VersionOrder:
        return VersionOrder(settings.vulns.order(branch))

    if other is None:
        result = diff_image_with_branch(store, tag=tag, day=day, order_of=order_of)
    else:
        result = diff_images(store, old_tag=tag, new_tag=other, old_day=day, order_of=order_of)
    body: dict[str, Any] = to_plain(result)
    return body
