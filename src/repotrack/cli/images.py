"""``repotrack load image|iso`` and ``repotrack query image|images|image-diff|image-find``.

Thin faces over :func:`repotrack.ingest.image.load_image` and
``repotrack.store.image_queries``: parse and check options, call, print one summary
line or a table (``--format json`` prints the shapes the REST API returns). The
commands join the ``load`` and ``query`` groups defined in ``cli/load.py`` and
``cli/query.py``. The queries ask the service while ``repotrack serve`` holds the store
(``cli.store_reads``); the loads are handed to it then (``cli.load_remote``, as ``load
repo`` does), with the same summary line and exit status.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from repotrack.cli.common import console, fail, get_settings, handle_errors
from repotrack.cli.handoff_options import (
    CacertOption,
    InsecureOption,
    PasswordOption,
    ServerOption,
    UserOption,
    ViaServiceOption,
    handoff,
)
from repotrack.cli.query import Day, Format, FormatOption, StoreOption, parse_day
from repotrack.errors import InputError, StoreError

if TYPE_CHECKING:
    from repotrack.cli.load_remote import HandOff
    from repotrack.cli.store_reads import ServiceReader
    from repotrack.ingest.image_meta import ImageMeta
    from repotrack.rpm import VersionOrder
    from repotrack.store import Store

__all__ = ["register", "run_image_load"]

T = TypeVar("T")

Edition = Annotated[str, typer.Option("--edition", help="Image edition, e.g. alt-workstation.")]
Version = Annotated[str, typer.Option("--version", help="N, N.N or N.N.N, e.g. 10.1.")]
Release = Annotated[str, typer.Option("--release", help="alpha, beta, rc or release.")]
Variant = Annotated[str, typer.Option("--variant", help="install, live or rescue.")]
Arch = Annotated[str, typer.Option("--arch", help="i586, x86_64, aarch64 or ppc64le.")]
ImageBranch = Annotated[str, typer.Option("--branch", help="Base branch, e.g. p10.")]
ImageDate = Annotated[str, typer.Option("--date", help="Image date, YYYY-MM-DD (UTC).")]
Url = Annotated[str, typer.Option("--url", help="Where the image is downloaded from.")]
Force = Annotated[
    bool,
    typer.Option("--force", "-F", help="Load even if loaded, unmatched or with unknown packages."),
]
DryRun = Annotated[
    bool, typer.Option("--dry-run", "-t", help="Read and check the image; store nothing.")
]


def run_image_load(
    *,
    store_url: str,
    path: Path,
    meta: ImageMeta,
    force: bool,
    dry_run: bool,
    handoff: HandOff | None = None,
) -> None:
    """Open the store (migrating an embedded one), load, print the summary line.

    With ``handoff``, a store held by another process (the service) makes this hand
    the load to the service instead, and ``handoff.always`` skips the store entirely;
    the service prints nothing here but the same summary line.
    """
    from repotrack.cli.load import print_summary
    from repotrack.cli.load_remote import store_held_elsewhere
    from repotrack.ingest.image import ImageLoad
    from repotrack.store import open_current_store

    request = ImageLoad(path=path, meta=meta, force=force, dry_run=dry_run)
    if handoff is not None and handoff.always:
        handoff.run(request)  # the path is checked where it is read: on the service
        return
    if not path.is_file():  # before the store: the same error whoever would read it
        raise InputError("no such image file", path=str(path))
    try:
        store = open_current_store(store_url)  # the embedded one migrated: ours to set up
    except StoreError as exc:
        if handoff is None or not store_held_elsewhere(exc):
            raise
        handoff.after_lock(exc, request)
        return
    with store:
        summary = request.run(store)
    print_summary(summary.line(), ())


def _load(
    ctx: typer.Context,
    path: Path,
    meta: ImageMeta,
    *,
    force: bool,
    dry_run: bool,
    store: str | None,
    via_service: bool,
    **account: Any,
) -> None:
    """What ``load image`` and ``load iso`` do once the image is described: an explicit
    ``--store`` is that store, never the service's; otherwise the load may be handed
    over (``account``: the hand-off's server, user, password and TLS options)."""
    from repotrack.cli.load import EXIT_INTERRUPTED, HANDOFF_HINT, interrupted_message

    if store is not None and via_service:
        raise InputError("hands the load to the service; it does not mix with --store")
    handing = None
    if store is None:
        handing = handoff(ctx, hint=HANDOFF_HINT, via_service=via_service, **account)
    try:
        run_image_load(
            store_url=store or get_settings(ctx).store_url,
            path=path,
            meta=meta,
            force=force,
            dry_run=dry_run,
            handoff=handing,
        )
    except KeyboardInterrupt as exc:
        raise fail(interrupted_message(exc), code=EXIT_INTERRUPTED) from None


def _meta(path: Path, **values: str) -> ImageMeta:
    from repotrack.ingest.image_meta import ImageMeta

    return ImageMeta.build(file=path.name, **values)


@handle_errors
def load_image_command(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Image file: rootfs tarball, raw/xz disk, qcow2.")],
    edition: Edition,
    version: Version,
    release: Release,
    variant: Variant,
    arch: Arch,
    branch: ImageBranch,
    date_: ImageDate,
    url: Url,
    image_type: Annotated[str, typer.Option("--type", help="tar, img or qcow.")],
    platform: Annotated[
        str, typer.Option("--platform", help="'', rpi4, tegra, baikalm, ... (see docs).")
    ] = "",
    flavor: Annotated[str, typer.Option("--flavor", help="Free text, e.g. kde.")] = "",
    force: Force = False,
    dry_run: DryRun = False,
    store: StoreOption = None,
    via_service: ViaServiceOption = False,
    server: ServerOption = None,
    user: UserOption = None,
    password: PasswordOption = None,
    cacert: CacertOption = None,
    insecure: InsecureOption = False,
) -> None:
    """Load a file system image's installed packages (no mounting, no root needed).

    While `repotrack serve` holds the embedded store, the load is handed to the service
    when a password is given (--password or $REPOTRACK_PASSWORD); --via-service always
    hands it over.
    """
    meta = _meta(
        path,
        edition=edition,
        version=version,
        release=release,
        platform=platform,
        variant=variant,
        flavor=flavor,
        arch=arch,
        branch=branch,
        date=date_,
        url=url,
        image_type=image_type,
    )
    _load(
        ctx,
        path,
        meta,
        force=force,
        dry_run=dry_run,
        store=store,
        via_service=via_service,
        server=server,
        user=user,
        password=password,
        cacert=cacert,
        insecure=insecure,
    )


@handle_errors
def load_iso_command(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="ISO 9660 image.")],
    edition: Edition,
    version: Version,
    release: Release,
    variant: Variant,
    arch: Arch,
    branch: ImageBranch,
    date_: ImageDate,
    url: Url,
    platform: Annotated[str, typer.Option("--platform", help="'' or baikalm.")] = "",
    flavor: Annotated[str, typer.Option("--flavor", help="Must be empty for ISO.")] = "",
    force: Force = False,
    dry_run: DryRun = False,
    store: StoreOption = None,
    via_service: ViaServiceOption = False,
    server: ServerOption = None,
    user: UserOption = None,
    password: PasswordOption = None,
    cacert: CacertOption = None,
    insecure: InsecureOption = False,
) -> None:
    """Load an ISO image: its RPMs, and the SquashFS images (live, rescue, altinst) inside.

    While `repotrack serve` holds the embedded store, the load is handed to the service
    as `load image` does.
    """
    meta = _meta(
        path,
        edition=edition,
        version=version,
        release=release,
        platform=platform,
        variant=variant,
        flavor=flavor,
        arch=arch,
        branch=branch,
        date=date_,
        url=url,
        image_type="iso",
    )
    _load(
        ctx,
        path,
        meta,
        force=force,
        dry_run=dry_run,
        store=store,
        via_service=via_service,
        server=server,
        user=user,
        password=password,
        cacert=cacert,
        insecure=insecure,
    )


# -- queries -------------------------------------------------------------------------------
def _read(
    ctx: typer.Context,
    url: str | None,
    local: Callable[[Store], T],
    remote: Callable[[ServiceReader], T],
) -> T:
    """``local`` on the store, or ``remote`` while ``repotrack serve`` holds it.

    Why: chDB opens in one process only; the ``/api/v1/images`` routes serve the same
    queries, so both paths render the same data (``cli.store_reads``).
    """
    from repotrack.cli.store_reads import read_store

    return read_store(get_settings(ctx), url, local=local, remote=remote)


def _check_tag(tag: str) -> None:
    """``image_queries``' own tag check, made first so that both paths fail alike."""
    from repotrack.errors import InputError

    if not tag or len(tag) > 1000:
        raise InputError("must be an image tag such as p10:alt-workstation:...", field="tag")


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _json(data: Any) -> None:
    import json

    from repotrack.store import to_plain

    typer.echo(json.dumps(to_plain(data), indent=2, ensure_ascii=False))


@handle_errors
def query_image(
    ctx: typer.Context,
    tag: Annotated[str, typer.Argument(help="Image tag, branch:edition:flavor:...:type.")],
    day: Day = None,
    fmt: FormatOption = Format.table,
    store: StoreOption = None,
) -> None:
    """An image's metadata and packages (the newest image with TAG on or before --date)."""
    from repotrack.cli.store_reads import from_plain
    from repotrack.store.image_queries import ImageContents, image_packages

    when = parse_day(day)
    _check_tag(tag)
    result: ImageContents = _read(
        ctx,
        store,
        local=lambda opened: image_packages(opened, tag=tag, day=when),
        remote=lambda service: from_plain(
            ImageContents,
            service.get("/api/v1/images/packages", {"tag": tag, "date": _iso(when)}),
        ),
    )
    if fmt is Format.json:
        _json(result)
        return
    from rich.table import Table
    from rich.text import Text

    image = result.image
    table = Table("name", "epoch:version-release", "arch", "summary", title=Text(_title(image)))
    for p in result.packages:
        table.add_row(*(Text(v) for v in (p.name, p.evr, p.arch, p.summary)))
    console.print(table)
    for key in ("md5_cs", "sha256_cs", "gost12_cs", "url"):
        if image.kv.get(key):
            console.print(f"{key}: {image.kv[key]}", markup=False, highlight=False, emoji=False)
    unknown = f", {result.unknown} not in the store" if result.unknown else ""
    console.print(f"{len(result.packages)} package(s){unknown}", markup=False)


def _title(image: Any) -> str:
    return f"{image.tag} {image.date:%Y-%m-%d}"


@handle_errors
def query_images(
    ctx: typer.Context,
    branch: Annotated[
        str | None, typer.Option("--branch", "-b", help="Only images of this branch.")
    ] = None,
    edition: Annotated[str | None, typer.Option("--edition", help="Only this edition.")] = None,
    fmt: FormatOption = Format.table,
    store: StoreOption = None,
) -> None:
    """List loaded images, newest first."""
    from repotrack.cli.store_reads import from_plain
    from repotrack.store.image_queries import ImageRef, list_images

    images: list[ImageRef] = _read(
        ctx,
        store,
        local=lambda opened: list_images(opened, branch=branch, edition=edition),
        remote=lambda service: from_plain(
            list[ImageRef], service.get("/api/v1/images", {"branch": branch, "edition": edition})
        ),
    )
    if fmt is Format.json:
        _json(images)
        return
    from rich.table import Table
    from rich.text import Text

    table = Table("date", "tag", "edition", "version", "arch", "variant", "type")
    for i in images:
        cells = (f"{i.date:%Y-%m-%d}", i.tag, i.edition, i.version, i.arch, i.variant, i.type)
        table.add_row(*(Text(c) for c in cells))
    console.print(table)
    console.print(f"{len(images)} image(s)", markup=False)


def _order_of(ctx: typer.Context) -> Callable[[str], VersionOrder]:
    """A branch's version order as the settings give it (``vulns.branch_orders``)."""
    from repotrack.rpm import VersionOrder

    orders = get_settings(ctx).vulns
    return lambda branch: VersionOrder(orders.order(branch))


@handle_errors
def query_image_diff(
    ctx: typer.Context,
    old_tag: Annotated[str, typer.Argument(help="Image tag (the old side).")],
    new_tag: Annotated[
        str | None,
        typer.Argument(help="Second image tag; without it, the branch snapshot of the date."),
    ] = None,
    day: Day = None,
    fmt: FormatOption = Format.table,
    store: StoreOption = None,
) -> None:
    """Packages added, removed and updated between two images, or image vs its branch
    (in the version order of the new side's branch: vulns.branch_orders)."""
    from repotrack.cli.store_reads import from_plain
    from repotrack.store.image_queries import diff_image_with_branch, diff_images
    from repotrack.store.queries import PackageDiff

    when = parse_day(day)
    _check_tag(old_tag)
    order_of = _order_of(ctx)

    def local(opened: Store) -> PackageDiff:
        if new_tag is None:
            return diff_image_with_branch(opened, tag=old_tag, day=when, order_of=order_of)
        return diff_images(
            opened, old_tag=old_tag, new_tag=new_tag, old_day=when, order_of=order_of
        )

    params = {"tag": old_tag, "other": new_tag, "date": _iso(when)}
    result: PackageDiff = _read(
        ctx,
        store,
        local=local,
        remote=lambda service: from_plain(PackageDiff, service.get("/api/v1/images/diff", params)),
    )
    if fmt is Format.json:
        _json(result)
        return
    for p in result.added:
        console.print(f"+ {p.name} {p.evr} {p.arch}", markup=False, highlight=False, emoji=False)
    for p in result.removed:
        console.print(f"- {p.name} {p.evr} {p.arch}", markup=False, highlight=False, emoji=False)
    for u in result.updated:
        arrow = {1: "->", -1: "<- (downgrade)", 0: "== (rebuild)"}[u.direction]
        console.print(
            f"~ {u.name} {u.arch}: {u.old.evr} {arrow} {u.new.evr}",
            markup=False,
            highlight=False,
            emoji=False,
        )
    console.print(
        f"{len(result.added)} added, {len(result.removed)} removed, {len(result.updated)} updated",
        markup=False,
    )


@handle_errors
def query_image_find(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Package name.")],
    branch: Annotated[str | None, typer.Option("--branch", "-b", help="Only this branch.")] = None,
    min_version: Annotated[
        str | None, typer.Option("--min-version", help="Lowest [E:]V[-R] (inclusive).")
    ] = None,
    max_version: Annotated[
        str | None, typer.Option("--max-version", help="Highest [E:]V[-R] (inclusive).")
    ] = None,
    fmt: FormatOption = Format.table,
    store: StoreOption = None,
) -> None:
    """Images that contain package NAME, optionally within a version range (in each
    image's branch's rpm version order: vulns.branch_orders)."""
    from repotrack.cli.store_reads import from_plain
    from repotrack.errors import InputError
    from repotrack.store.image_queries import ImageHit, images_with_package

    if not name:  # images_with_package's own check, made first so that both paths fail alike
        raise InputError("must not be empty", field="name")
    params = {
        "name": name,
        "branch": branch,
        "min_version": min_version,
        "max_version": max_version,
    }
    hits: list[ImageHit] = _read(
        ctx,
        store,
        local=lambda opened: images_with_package(
            opened,
            name=name,
            branch=branch,
            min_version=min_version,
            max_version=max_version,
            order_of=_order_of(ctx),
        ),
        remote=lambda service: from_plain(
            list[ImageHit], service.get("/api/v1/images/find", params)
        ),
    )
    if fmt is Format.json:
        _json(hits)
        return
    for hit in hits:
        p = hit.package
        console.print(
            f"{_title(hit.image)}  {p.name} {p.evr} {p.arch}",
            markup=False,
            highlight=False,
            emoji=False,
            soft_wrap=True,
        )
    console.print(f"{len(hits)} image package(s)", markup=False)


def register(root: typer.Typer) -> None:
    """Add the image commands to the ``load`` and ``query`` groups."""
    from repotrack.cli.load import app as load_app
    from repotrack.cli.query import query_app

    load_app.command("image")(load_image_command)
    load_app.command("iso")(load_iso_command)
    query_app.command("image")(query_image)
    query_app.command("images")(query_images)
    query_app.command("image-diff")(query_image_diff)
    query_app.command("image-find")(query_image_find)
