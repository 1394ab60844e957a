"""``repotrack query packages|package|diff``: read package sets from the analytics store.

Thin face over ``repotrack.store.queries``: parse options, call, render as a table or
as JSON (``--format json``, the same shapes the REST API returns).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from repotrack.cli.common import console, get_settings, handle_errors
from repotrack.errors import ConflictError, InputError

if TYPE_CHECKING:
    from repotrack.cli.store_reads import ServiceReader
    from repotrack.store import Store

__all__ = ["query_app", "register"]

query_app = typer.Typer(help="Query package sets in the analytics store.", no_args_is_help=True)


class Format(StrEnum):
    table = "table"
    json = "json"


Branch = Annotated[str, typer.Option("--branch", "-b", help="Branch (package set name), e.g. p10.")]
Day = Annotated[
    str | None,
    typer.Option("--date", "-d", help="UTC day YYYY-MM-DD: the newest set on or before it."),
]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
StoreOption = Annotated[str | None, typer.Option("--store", help="Store URL (default: settings).")]


def _read(
    ctx: typer.Context,
    url: str | None,
    local: Callable[[Store], Any],
    path: str,
    params: dict[str, Any],
    *,
    pages: Callable[[Callable[[dict[str, Any]], Any]], Any] | None = None,
) -> Any:
    """The result as plain data: from the store, or from the service that holds it
    (``pages(get)`` reads a paged route whole, ``get(more)`` asking with ``params`` and
    ``more``)."""
    from repotrack.cli.store_reads import read_store
    from repotrack.store import to_plain

    def remote(service: ServiceReader) -> Any:
        if pages is None:
            return service.get(path, params)
        return pages(lambda more: service.get(path, {**params, **more}))

    return read_store(
        get_settings(ctx), url, local=lambda store: to_plain(local(store)), remote=remote
    )


def parse_day(text: str | None, *, option: str = "--date") -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"expected a date as YYYY-MM-DD, got {text!r}", field=option) from None


def _open(ctx: typer.Context, url: str | None) -> Store:
    """The store for commands that read it directly (never created by reading)."""
    from repotrack.cli.store_reads import open_existing_store

    return open_existing_store(url or get_settings(ctx).store_url)


def _print_json(data: Any) -> None:
    """Results as JSON; ``to_plain`` leaves data that is already plain unchanged."""
    from repotrack.store import to_plain

    typer.echo(json.dumps(to_plain(data), indent=2, ensure_ascii=False))


@query_app.command("packages")
@handle_errors
def packages(
    ctx: typer.Context,
    branch: Branch,
    day: Day = None,
    arch: Annotated[
        str | None, typer.Option("--arch", help="Only this arch (src for sources).")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Name glob, e.g. 'lib*'.")] = None,
    limit: Annotated[
        int, typer.Option("--limit", help="At most this many rows (read in pages).")
    ] = 1000,
    offset: Annotated[int, typer.Option("--offset", help="Skip this many rows.")] = 0,
    all_rows: Annotated[
        bool, typer.Option("--all", help="Every package from --offset on (ignores --limit).")
    ] = False,
    fmt: FormatOption = Format.table,
    store: StoreOption = None,
) -> None:
    """List the packages of a branch's package set as of a day."""
    from repotrack.cli.store_reads import read_store
    from repotrack.store import list_packages, to_plain

    when = parse_day(day)
    wanted = None if all_rows else limit

    def local(opened: Store) -> dict[str, Any]:
        def page(size: int, start: int) -> dict[str, Any]:
            found = list_packages(
                opened, branch=branch, day=when, arch=arch, name_glob=name, limit=size,
                offset=start,
            )  # fmt: skip
            return cast("dict[str, Any]", to_plain(found))

        return paged(page, limit=wanted, offset=offset)

    def remote(service: ServiceReader) -> dict[str, Any]:
        def page(size: int, start: int) -> dict[str, Any]:
            params = {"branch": branch, "date": day, "arch": arch, "name": name, "limit": size,
                      "offset": start}  # fmt: skip
            return cast("dict[str, Any]", service.get("/api/v1/packages", params))

        return paged(page, limit=wanted, offset=offset)

    result = read_store(get_settings(ctx), store, local=local, remote=remote)
    for key in ("limit", "offset"):
        result.pop(key, None)  # the route echoes its paging
    if fmt is Format.json:
        _print_json(result)
        return
    from rich.table import Table

    table = Table(
        "name", "epoch:version-release", "arch", "summary", title=_title(result["package_set"])
    )
    for p in result["packages"]:
        table.add_row(p["name"], p["evr"], p["arch"], p["summary"])
    console.print(table)
    console.print(f"{len(result['packages'])} of {result['total']} package(s)", markup=False)


#: Rows a page may hold: the store's and the REST route's cap (``store.queries.MAX_LIMIT``,
#: not imported here: the store's modules are imported when a command reads; a test
#: pins the two equal).
PAGE = 10_000
#: Listings restarted because a newer snapshot of the branch was published meanwhile.
MAX_RESTARTS = 3


def paged(
    page: Callable[[int, int], dict[str, Any]], *, limit: int | None, offset: int
) -> dict[str, Any]:
    """``limit`` rows from ``offset`` (every row when ``limit`` is None), read in pages of
    at most ``PAGE``, which is as many as one store query or REST request gives.

    Why: a branch such as Sisyphus holds some 60 000 packages, and a maintainer lists them
    all to compare with another tool; one page used to be the most a command could show.
    Every page must come from the same snapshot (a load may publish a newer one between
    two pages): when a page names another package set, the listing starts over.
    """
    if limit is not None and limit <= PAGE:
        return page(limit, offset)  # one page; a limit below 1 gets the store's own error
    for _attempt in range(MAX_RESTARTS):
        result = page(PAGE, offset)
        rows: list[Any] = result["packages"]
        wanted = result["total"] - offset if limit is None else limit
        while len(rows) < wanted:
            more = page(min(PAGE, wanted - len(rows)), offset + len(rows))
            if more["package_set"] != result["package_set"]:
                break
            if not more["packages"]:
                return result
            rows.extend(more["packages"])
        else:
            return result
    raise ConflictError(
        "the branch got a newer snapshot while its packages were listed; run it again, or "
        "give --date to list one snapshot"
    )


_DIFF_LISTS = ("added", "removed", "updated")


def diff_pages(get: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """The whole diff from ``/api/v1/diff``, whose three lists come in pages of at most
    ``PAGE`` rows each: pages are read until every list holds its ``*_total``, so the
    command prints the same lines and counts as with the store opened locally.

    Before 2026-12-07 the command read one page: a diff of more than 10 000 updates
    (a mass rebuild) printed "10000 updated" when the service held the store. Every page
    must name the same two sets, else the listing starts over (a forced reload of one of
    the days published another set meanwhile).
    """
    for _attempt in range(MAX_RESTARTS):
        result = cast("dict[str, Any]", get({"limit": PAGE, "offset": 0}))
        offset = PAGE
        while any(len(result[k]) < result[f"{k}_total"] for k in _DIFF_LISTS):
            more = cast("dict[str, Any]", get({"limit": PAGE, "offset": offset}))
            if (more["old_set"], more["new_set"]) != (result["old_set"], result["new_set"]):
                break
            if not any(more[k] for k in _DIFF_LISTS):
                break
            for key in _DIFF_LISTS:
                result[key].extend(more[key])
            offset += PAGE
        else:
            for key in ("limit", "offset", *(f"{k}_total" for k in _DIFF_LISTS)):
                result.pop(key, None)
            return result
    raise ConflictError("the branch got another snapshot of one of the days; run it again")


def _title(ref: dict[str, Any]) -> str:
    return f"{ref['branch']} {_when(ref['date']):%Y-%m-%d %H:%M} UTC"


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


@query_app.command("package")
@handle_errors
def package(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Package name.")],
    branch: Branch,
    day: Day = None,
    fmt: FormatOption = Format.table,
    store: StoreOption = None,
) -> None:
    """Show a package's builds: versions, hashes, files, dependencies, changelog."""
    from urllib.parse import quote

    from repotrack.store import package_info

    when = parse_day(day)
    info = _read(
        ctx,
        store,
        lambda opened: package_info(opened, name=name, branch=branch, day=when),
        f"/api/v1/packages/{quote(name, safe='')}",
        {"branch": branch, "date": day},
    )
    if fmt is Format.json:
        _print_json(info)
        return
    for build in info["builds"]:
        p = build["package"]
        console.print(
            f"{p['name']} {p['evr']} {p['arch']}  pkg_hash {p['pkg_hash']}  "
            f"({_title(info['package_set'])})",
            markup=False,
            highlight=False,
        )
        for key, value in build["hashes"].items():
            console.print(f"  {key}: {value}", markup=False, highlight=False)
        for dep in build["depends"]:
            console.print(f"  {dep['type']}: {dep['name']} {dep['version']}".rstrip(), markup=False)
        for path in build["files"]:
            console.print(f"  file: {path}", markup=False, highlight=False)
        for entry in build["changelog"][:5]:
            console.print(
                f"  * {_when(entry['date']):%Y-%m-%d} {entry['name']} {entry['evr']}: "
                f"{entry['text']}",
                markup=False,
                highlight=False,
            )


@query_app.command("diff")
@handle_errors
def diff(
    ctx: typer.Context,
    branch: Annotated[str, typer.Argument(help="Branch, e.g. p10.")],
    old: Annotated[str, typer.Argument(help="First UTC day YYYY-MM-DD.")],
    new: Annotated[str, typer.Argument(help="Second UTC day YYYY-MM-DD.")],
    fmt: FormatOption = Format.table,
    store: StoreOption = None,
) -> None:
    """Packages added, removed and updated between two days (the branch's rpm version
    order: vulns.branch_orders)."""
    from repotrack.rpm import VersionOrder
    from repotrack.store import diff_package_sets

    order = VersionOrder(get_settings(ctx).vulns.order(branch))
    old_day = parse_day(old, option="FROM")
    new_day = parse_day(new, option="TO")
    assert old_day is not None and new_day is not None
    result = _read(
        ctx,
        store,
        lambda opened: diff_package_sets(
            opened, branch=branch, old_day=old_day, new_day=new_day, order=order
        ),
        "/api/v1/diff",
        {"branch": branch, "from": old, "to": new},
        pages=diff_pages,
    )
    if fmt is Format.json:
        _print_json(result)
        return
    console.print(
        f"{branch}: {_title(result['old_set'])} -> {_title(result['new_set'])}", markup=False
    )
    for p in result["added"]:
        console.print(f"+ {p['name']} {p['evr']} {p['arch']}", markup=False, highlight=False)
    for p in result["removed"]:
        console.print(f"- {p['name']} {p['evr']} {p['arch']}", markup=False, highlight=False)
    for u in result["updated"]:
        arrow = {1: "->", -1: "<- (downgrade)", 0: "== (rebuild)"}[u["direction"]]
        console.print(
            f"~ {u['name']} {u['arch']}: {u['old']['evr']} {arrow} {u['new']['evr']}",
            markup=False,
            highlight=False,
        )
    console.print(
        f"{len(result['added'])} added, {len(result['removed'])} removed, "
        f"{len(result['updated'])} updated",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(query_app, name="query")
