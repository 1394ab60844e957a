"""``repotrack query feeds|ftbfs|newer|maintainer``: what the enrichment feeds say.

Thin face over ``repotrack.store.enrichment``; ``--format json`` prints the shapes
the REST API returns (``/api/v1/enrichment/...``). While ``repotrack serve`` holds the
store, the same routes answer instead (``cli.store_reads``), with the same output.
"""

from __future__ import annotations

from typing import Annotated

import typer

from repotrack.cli.common import console, get_settings, handle_errors
from repotrack.cli.query import Branch, Format, FormatOption, StoreOption, _print_json
from repotrack.cli.store_reads import from_plain, read_store

__all__ = ["register"]


def register(root: typer.Typer) -> None:
    from repotrack.cli.query import query_app

    query_app.command("feeds")(feeds)
    query_app.command("ftbfs")(ftbfs)
    query_app.command("newer")(newer)
    query_app.command("maintainer")(maintainer)


def _line(text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


@handle_errors
def feeds(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Source package name.")],
    branch: Branch,
    fmt: FormatOption = Format.table,
    store: StoreOption = None,
) -> None:
    """A package's acl (leader first) and groups, beehive, open bugs, repocop, watch, licenses."""
    from urllib.parse import quote

    from repotrack.store.enrichment import PackageFeeds, package_feeds

    result = read_store(
        get_settings(ctx),
        store,
        local=lambda opened: package_feeds(opened, branch=branch, name=name),
        remote=lambda service: from_plain(
            PackageFeeds,
            service.get(f"/api/v1/enrichment/packages/{quote(name, safe='')}", {"branch": branch}),
        ),
    )
    if fmt is Format.json:
        _print_json(result)
        return
    _line(f"{name} in {branch}")
    _line(f"  acl: {' '.join(result.acl) or '-'}")
    for group, members in result.groups.items():
        _line(f"  {group}: {' '.join(members)}")
    for b in result.beehive:
        since = f", failing since {b.ftbfs_since:%Y-%m-%d}" if b.status == "error" else ""
        _line(
            f"  beehive {b.arch}: {b.status} {b.version}-{b.release} on {b.updated:%Y-%m-%d}{since}"
        )
    for bug in result.bugs:
        _line(f"  bug {bug.bz_id} {bug.status} [{bug.severity}] {bug.summary}")
    for w in result.repocop:
        _line(f"  repocop {w.test} ({w.status}) {w.package}.{w.arch}: {w.message}")
    for up in result.watch:
        _line(f"  watch: {up.old_version} -> {up.new_version} {up.url}")
    _line(f"  license: {result.license or '-'}")
    for lic in result.licenses:
        _line(f"    {lic.spdx_id} ({lic.type}): {lic.name}")


@handle_errors
def ftbfs(
    ctx: typer.Context,
    branch: Branch,
    arch: Annotated[str | None, typer.Option("--arch", "-a", help="Only this arch.")] = None,
    fmt: FormatOption = Format.table,
    store: StoreOption = None,
) -> None:
    """Packages of a branch that failed to build in beehive's newest run."""
    from repotrack.store.enrichment import FailingBuild, failing_to_build

    rows = read_store(
        get_settings(ctx),
        store,
        local=lambda opened: failing_to_build(opened, branch=branch, arch=arch),
        remote=lambda service: from_plain(
            list[FailingBuild],
            service.get("/api/v1/enrichment/ftbfs", {"branch": branch, "arch": arch})["packages"],
        ),
    )
    if fmt is Format.json:
        _print_json(rows)
        return
    for r in rows:
        _line(f"{r.name} {r.version}-{r.release} {r.arch} failing since {r.ftbfs_since:%Y-%m-%d}")
    _line(f"{len(rows)} failing build(s)")


@handle_errors
def newer(
    ctx: typer.Context, branch: Branch, fmt: FormatOption = Format.table, store: StoreOption = None
) -> None:
    """Source packages of a branch with a newer upstream version (watch; the branch's rpm
    version order: vulns.branch_orders)."""
    from repotrack.rpm import VersionOrder
    from repotrack.store.enrichment import NewerUpstream, newer_upstream

    settings = get_settings(ctx)
    order = VersionOrder(settings.vulns.order(branch))
    rows = read_store(
        settings,
        store,
        local=lambda opened: newer_upstream(opened, branch=branch, order=order),
        remote=lambda service: from_plain(
            list[NewerUpstream],
            service.get("/api/v1/enrichment/newer", {"branch": branch})["packages"],
        ),
    )
    if fmt is Format.json:
        _print_json(rows)
        return
    for r in rows:
        _line(f"{r.name} {r.version} -> {r.new_version} ({r.maintainer}) {r.url}")
    _line(f"{len(rows)} package(s) with a newer upstream version")


@handle_errors
def maintainer(
    ctx: typer.Context,
    branch: Branch,
    nick: Annotated[str, typer.Option("--maintainer", "-m", help="Maintainer nickname.")],
    fmt: FormatOption = Format.table,
    store: StoreOption = None,
) -> None:
    """The maintainer dashboard: a nick's packages (acl, groups included) with their feeds."""
    from urllib.parse import quote

    from repotrack.rpm import VersionOrder
    from repotrack.store.enrichment import MaintainerPackage, maintainer_dashboard

    settings = get_settings(ctx)
    order = VersionOrder(settings.vulns.order(branch))
    rows = read_store(
        settings,
        store,
        local=lambda opened: maintainer_dashboard(opened, branch=branch, nick=nick, order=order),
        remote=lambda service: from_plain(
            list[MaintainerPackage],
            service.get(
                f"/api/v1/enrichment/maintainers/{quote(nick, safe='')}", {"branch": branch}
            )["packages"],
        ),
    )
    if fmt is Format.json:
        _print_json(rows)
        return
    for p in rows:
        marks = [
            "leader" if p.leader else "",
            f"FTBFS {','.join(p.failing_arches)}" if p.failing_arches else "",
            f"{p.open_bugs} open bug(s)" if p.open_bugs else "",
            f"{p.repocop_warnings} repocop warning(s)" if p.repocop_warnings else "",
            f"newer {p.newer_version}" if p.newer_version else "",
        ]
        _line(f"{p.name} {p.version or '-'}: {'; '.join(m for m in marks if m) or 'ok'}")
    _line(f"{len(rows)} package(s) of {nick} in {branch}")
