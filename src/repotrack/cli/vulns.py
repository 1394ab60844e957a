"""``repotrack load vulns`` and ``repotrack vulns ...``: feeds, mapping, matching, triage, queries.

Thin faces over ``ingest.vulns`` and ``security``: parse options, call, render as a table
or as JSON (``--format json``, the shapes ``/api/v1/vulns`` returns). The read-only
queries ask the service while ``repotrack serve`` holds the store (``cli.store_reads``);
``vulns match``, ``vulns map set|unset`` and ``vulns triage`` hand the change to it
(``POST /api/v1/vulns/...``, with the service account: ``REPOTRACK_PASSWORD``).
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from repotrack.cli.common import console, err_console, get_settings, handle_errors
from repotrack.cli.handoff_options import (
    CacertOption,
    InsecureOption,
    PasswordOption,
    ServerOption,
)
from repotrack.cli.handoff_options import UserOption as HandOffUserOption

if TYPE_CHECKING:
    from repotrack.cli.load_remote import HandOff
    from repotrack.cli.store_reads import ServiceReader
    from repotrack.ingest.vulns import VulnJobSummary, VulnLoad
    from repotrack.rpm import VersionOrder
    from repotrack.security import MatchRun
    from repotrack.security.queries import Verdict
    from repotrack.store import Store

__all__ = ["register", "vulns_app"]

T = TypeVar("T")

vulns_app = typer.Typer(
    help="Vulnerabilities: package mapping, matching, triage and queries.", no_args_is_help=True
)
map_app = typer.Typer(help="Package → CPE / OSV package mapping.", no_args_is_help=True)
vulns_app.add_typer(map_app, name="map")
errata_app = typer.Typer(
    help="Errata (ALT-PU, ALT-BU, ALT-SA, ALT-EC) of a branch.", no_args_is_help=True
)
vulns_app.add_typer(errata_app, name="errata")


class Format(StrEnum):
    table = "table"
    json = "json"


class Order(StrEnum):
    rpm = "rpm"
    alt = "alt"


BranchOption = Annotated[str, typer.Option("--branch", "-b", help="Branch, e.g. p10.")]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
StoreOption = Annotated[str | None, typer.Option("--store", help="Store URL (default: settings).")]
StatusOption = Annotated[
    str,
    typer.Option("--status", "-s", help="Only verdicts with this status (vulnerable, fixed, ...)."),
]
UserOption = Annotated[
    str | None, typer.Option("--user", help="Who makes the change (default: login name).")
]
ReasonOption = Annotated[str, typer.Option("--reason", "-r", help="Why (kept in the history).")]
PackageFilterOption = Annotated[
    str | None, typer.Option("--package", "-p", help="Only this package.")
]


def _open(ctx: typer.Context, url: str | None) -> Store:
    from repotrack.store import open_current_store

    return open_current_store(url or get_settings(ctx).store_url)


def _read(
    ctx: typer.Context,
    url: str | None,
    local: Callable[[Store], T],
    remote: Callable[[ServiceReader], T],
) -> T:
    """``local`` on the store, or ``remote`` while ``repotrack serve`` holds it.

    Why: chDB opens in one process only; the ``/api/v1/vulns`` routes serve the same
    queries, so both paths render the same data (``cli.store_reads``).
    """
    from repotrack.cli.store_reads import read_store

    return read_store(get_settings(ctx), url, local=local, remote=remote)


def _write(
    ctx: typer.Context,
    url: str | None,
    local: Callable[[Store], T],
    remote: Callable[[ServiceReader], T],
) -> T:
    """``local`` on the store, or ``remote`` (a write the service makes) while
    ``repotrack serve`` holds the configured store."""
    from repotrack.cli.store_reads import ServiceReader
    from repotrack.errors import StoreLockedError
    from repotrack.store import open_current_store

    settings = get_settings(ctx)
    target = url or settings.store_url
    try:
        opened = open_current_store(target)
    except StoreLockedError as locked:
        if target != settings.store_url:
            raise
        return remote(ServiceReader(settings, locked))
    with opened:
        return local(opened)


def _handed(service: ServiceReader, path: str, body: dict[str, Any]) -> Any:
    """POST a change to the service; say on stderr who made it."""
    answer = service.post(path, body)
    typer.echo(
        f"recorded by the repotrack service at {service.base_url} (the history names its account)",
        err=True,
    )
    return answer


def _need(value: str, field: str) -> None:
    """The queries' own "must not be empty" check, made first so both paths fail alike
    (a route refuses an empty path segment before the query would)."""
    from repotrack.errors import InputError

    if not value:
        raise InputError("must not be empty", field=field)


def _check_branch(branch: str) -> None:
    """The branch check the package queries make (the routes take 1 to 200 characters)."""
    from repotrack.errors import InputError

    if not branch or len(branch) > 200:
        raise InputError("must be a branch name such as p10 or sisyphus", field="branch")


def _check_status(status: str) -> None:
    """The verdict queries' status check, made first for the same reason."""
    from repotrack.errors import InputError
    from repotrack.security.queries import STATUS_FILTERS

    if status not in STATUS_FILTERS:
        raise InputError(
            f"must be one of {', '.join(s for s in STATUS_FILTERS if s)}", field="status"
        )


def _segment(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def _print_json(data: Any) -> None:
    from repotrack.store import to_plain

    typer.echo(json.dumps(to_plain(data), indent=2, ensure_ascii=False))


def _user(user: str | None) -> str:
    return user or getpass.getuser()


# -- repotrack load vulns --------------------------------------------------------------

#: How a user whose load met the service's store hands it over.
LOAD_HANDOFF_HINT = (
    "to hand the load to the service, give its password with --password or "
    "REPOTRACK_PASSWORD (and --user or REPOTRACK_USER unless it is service.user), "
    "or pass --via-service"
)


@handle_errors
def load_vulns_command(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Argument(
            help="Feed format: nvd, cve5, osv, ghsa, csaf, cvrf, oval, bdu, almalinux (AlmaLinux's "
            "errata JSON), redhat (Red Hat's Security Data API CVE JSON), updateinfo (a "
            "repository's updateinfo.xml, or its repodata directory), cpematch (the NVD "
            "CPE match feed), or cvechecked (ALT's manual CVE checks, altrepodb's CveChecked "
            "rows)."
        ),
    ],
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Files (plain, compressed, or zip and tar archives of them), directories "
            "(read recursively) or http(s) URLs."
        ),
    ],
    store: StoreOption = None,
    via_service: Annotated[
        bool,
        typer.Option(
            "--via-service",
            help="Hand the load to the running service (which reads the paths) without "
            "trying the store first.",
        ),
    ] = False,
    server: ServerOption = None,
    service_user: HandOffUserOption = None,
    password: PasswordOption = None,
    cacert: CacertOption = None,
    insecure: InsecureOption = False,
) -> None:
    """Load vulnerability records (idempotent: records already stored are skipped).

    Unreadable records are listed on stderr and the rest loads; the exit status is
    then 2. While `repotrack serve` holds the store, the load is handed to it (with
    REPOTRACK_PASSWORD) and prints the same.
    """
    from repotrack.cli.handoff_options import handoff
    from repotrack.ingest.vuln_fetch import is_url
    from repotrack.ingest.vulns import VulnLoad

    key = get_settings(ctx).vulns.resolved_nvd_api_key() if any(is_url(p) for p in paths) else ""
    request = VulnLoad(source, tuple(paths), key)
    summary = _run_vuln_load(
        request,
        store_url=store or get_settings(ctx).store_url,
        handoff=handoff(
            ctx,
            via_service=via_service,
            server=server,
            user=service_user,
            password=password,
            cacert=cacert,
            insecure=insecure,
            hint=LOAD_HANDOFF_HINT,
        )
        if store is None
        else None,
    )
    for line in summary.lines:
        typer.echo(line)
    for problem in summary.problems:
        typer.echo(f"InputError: {problem}", err=True)
    if summary.problems:
        raise typer.Exit(2)


def _run_vuln_load(request: VulnLoad, *, store_url: str, handoff: HandOff | None) -> VulnJobSummary:
    """The load on the store, or handed to the service that holds it (as ``load task``:
    ``--via-service`` skips the store; a store locked by another process is handed over
    when a password is at hand). A store given with ``--store`` is never handed over."""
    import dataclasses

    from repotrack.cli.load_remote import store_held_elsewhere
    from repotrack.errors import StoreError
    from repotrack.ingest.vulns import VulnJobSummary
    from repotrack.store import open_current_store

    done: list[VulnJobSummary] = []
    if handoff is not None:
        handoff = dataclasses.replace(
            handoff, show=lambda body: done.append(VulnJobSummary.from_dict(body))
        )
        if handoff.always:
            handoff.run(request)
            return done[0]
    try:
        opened = open_current_store(store_url)
    except StoreError as exc:
        if handoff is None or not store_held_elsewhere(exc):
            raise
        handoff.after_lock(exc, request)
        return done[0]
    with opened:
        return request.run(opened)


# -- matching --------------------------------------------------------------------------


@vulns_app.command("match")
@handle_errors
def match(
    ctx: typer.Context,
    branch: BranchOption,
    full: Annotated[bool, typer.Option("--full", help="Rematch everything.")] = False,
    order: Annotated[
        Order | None,
        typer.Option("--order", help="Version order (default: vulns.branch_orders or rpm)."),
    ] = None,
    store: StoreOption = None,
) -> None:
    """Rematch a branch: its packages against every loaded range, then the verdicts."""
    from repotrack.rpm import VersionOrder
    from repotrack.security import rematch_branch

    chosen = VersionOrder(order.value if order else get_settings(ctx).vulns.order(branch))
    run = _write(
        ctx,
        store,
        local=lambda opened: rematch_branch(opened, branch=branch, order=chosen, full=full),
        remote=lambda service: _rematch_by_service(service, branch, chosen, full=full),
    )
    typer.echo(
        f"{run.branch}: {run.kind} rematch ({run.order.value} order) of {run.vulnerabilities} "
        f"vulnerabilities: {run.matches} range match(es), {run.verdicts} verdict(s) "
        f"in {run.seconds:.2f} s"
    )


def _rematch_by_service(
    service: ServiceReader, branch: str, order: VersionOrder, *, full: bool
) -> MatchRun:
    """The rematch made by the running service, which holds the store."""
    from repotrack.cli.store_reads import from_plain
    from repotrack.security import MatchRun

    body = {"branch": branch, "full": full, "order": order.value}
    run: MatchRun = from_plain(MatchRun, service.post("/api/v1/vulns/match", body))
    typer.echo(f"rematched by the repotrack service at {service.base_url}", err=True)
    return run


# -- mapping ---------------------------------------------------------------------------


@map_app.command("set")
@handle_errors
def map_set(
    ctx: typer.Context,
    package: Annotated[str, typer.Argument(help="Source package name.")],
    result: Annotated[str, typer.Argument(help="CPE 2.3 name or osv:<ecosystem>/<name>.")],
    reason: ReasonOption = "",
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Map a package to a CPE (or an OSV package); the next rematch uses it."""
    _change_mapping(ctx, store, "set", package, result, reason, user)
    console.print(f"{package} → {result}", markup=False, highlight=False)


@map_app.command("unset")
@handle_errors
def map_unset(
    ctx: typer.Context,
    package: Annotated[str, typer.Argument(help="Source package name.")],
    result: Annotated[str, typer.Argument(help="The CPE or OSV package to drop.")],
    reason: ReasonOption = "",
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Drop a mapping (the change history keeps it)."""
    _change_mapping(ctx, store, "unset", package, result, reason, user)
    console.print(f"{package} ↛ {result}", markup=False, highlight=False)


def _change_mapping(
    ctx: typer.Context,
    store: str | None,
    action: str,
    package: str,
    result: str,
    reason: str,
    user: str | None,
) -> None:
    """``map set``/``map unset``: in the store, or through the service that holds it."""
    from repotrack.security import set_mapping, unset_mapping

    change = set_mapping if action == "set" else unset_mapping
    _write(
        ctx,
        store,
        local=lambda opened: change(
            opened, pkg_name=package, result=result, user=_user(user), reason=reason
        ),
        remote=lambda service: _handed(
            service,
            "/api/v1/vulns/mappings",
            {"package": package, "result": result, "action": action, "reason": reason},
        ),
    )


@map_app.command("list")
@handle_errors
def map_list(
    ctx: typer.Context,
    package: PackageFilterOption = None,
    fmt: FormatOption = Format.table,
    store: StoreOption = None,
) -> None:
    """List the active mappings."""
    from repotrack.cli.store_reads import from_plain
    from repotrack.security import list_mappings
    from repotrack.security.mapping import Mapping

    mappings: list[Mapping] = _read(
        ctx,
        store,
        local=lambda opened: list_mappings(opened, pkg_name=package),
        remote=lambda service: from_plain(
            list[Mapping], service.get("/api/v1/vulns/mappings", {"package": package or None})
        ),
    )
    if fmt is Format.json:
        _print_json(mappings)
        return
    for m in mappings:
        typer.echo(f"{m.pkg_name}\t{m.kind}\t{m.result}\t{m.source}")


@map_app.command("repology")
@handle_errors
def map_repology(
    ctx: typer.Context,
    repo: Annotated[
        list[str] | None,
        typer.Option("--repo", "-r", help="Only this repology repo, e.g. alt_p10 (repeatable)."),
    ] = None,
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Map packages to their repology project's CPEs (after `repotrack load repology`).

    A package named differently from its project gets the project's active CPEs (source
    repology); a package mapped by hand is left to its manual mappings, and a CPE unset
    by hand is not written for it. Changes go to the mapping history; a re-run writes
    nothing.
    """
    from repotrack.security.mapping import sync_repology

    with _open(ctx, store) as opened:
        done = sync_repology(opened, repos=repo or (), user=_user(user))
    for name, cpe in done.activated:
        typer.echo(f"+ {name}\t{cpe}")
    for name, cpe in done.deactivated:
        typer.echo(f"- {name}\t{cpe}")
    typer.echo(done.line())


@map_app.command("ecosystem")
@handle_errors
def map_ecosystem(
    ctx: typer.Context,
    streams: Annotated[
        list[str],
        typer.Argument(
            help="The streams the feeds name packages in: OSV ecosystems (AlmaLinux:8, "
            "'Rocky Linux:9') or CSAF/OVAL platforms (cpe:/o:redhat:enterprise_linux:9::baseos "
            "cpe:/a:redhat:enterprise_linux:9::appstream).",
            metavar="STREAM...",
        ),
    ],
    branch: BranchOption,
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Map every source package of the branch, and the names of its binaries, to each STREAM.

    OSV, CSAF and OVAL advisories of a distribution name its packages (mostly binaries,
    such as python3-requests) within a stream; each source package of the branch's newest
    set gets an osv:STREAM/NAME mapping of its own name and of each of its binaries'
    (source ecosystem). A re-run writes only what is missing; a mapping unset by hand is
    not written again. Run `repotrack vulns match` after it.
    """
    from repotrack.security.ecosystem_mapping import sync_ecosystem

    with _open(ctx, store) as opened:
        done = [
            sync_ecosystem(opened, branch=branch, stream=stream, user=_user(user))
            for stream in streams
        ]
    for sync in done:
        for name, result in sync.added:
            typer.echo(f"+ {name}\t{result}")
        typer.echo(sync.line())
        if sync.other_streams is not None:
            known = ", ".join(sync.other_streams) or "none (load OSV, CSAF or OVAL records first)"
            err_console.print(
                f"warning: no loaded record names stream {sync.stream!r}; the streams they "
                f"name: {known}",
                markup=False,
                highlight=False,
            )


@map_app.command("check")
@handle_errors
def map_check(
    ctx: typer.Context,
    package: PackageFilterOption = None,
    fmt: FormatOption = Format.table,
    store: StoreOption = None,
) -> None:
    """Each active CPE mapping with what the loaded NVD data knows of its product: ranges,
    match criteria and their concrete CPE names (`load vulns cpematch`). A mapping NVD
    names nowhere can never match: it is marked `unknown`."""
    from repotrack.security.mapping import check_mappings

    with _open(ctx, store) as opened:
        checks = check_mappings(opened, pkg_name=package)
    if fmt is Format.json:
        _print_json(checks)
        return
    for c in checks:
        state = "known" if c.known else "unknown"
        typer.echo(
            f"{c.pkg_name}\t{c.result}\t{state}\t{c.ranges} range(s), {c.criteria} "
            f"criteria, {c.names} CPE name(s)"
        )
    unknown = sum(1 for c in checks if not c.known)
    typer.echo(f"{len(checks)} mapping(s), {unknown} naming a product NVD does not list")


@map_app.command("suggest")
@handle_errors
def map_suggest(
    ctx: typer.Context,
    branch: BranchOption,
    dictionary: Annotated[
        Path,
        typer.Option(
            "--cpe-dictionary",
            help="NVD's CPE dictionary: the 2.0 feed (nvdcpe-2.0.tar.gz, or its JSON chunks), "
            "a CPE API 2.0 page, or the legacy official-cpe-dictionary_v2.3.xml[.gz|.zip].",
        ),
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only print the candidates.")] = False,
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Suggest CPEs for the branch's packages from the CPE dictionary (state candidate)."""
    from repotrack.errors import InputError
    from repotrack.ingest.feed_files import CPE_DICTIONARY, path_documents
    from repotrack.security.suggest import suggest_mappings
    from repotrack.sources.vulns import RecordProblem
    from repotrack.sources.vulns.cpe_dictionary import CpeEntry, parse_cpe_dictionary

    if not dictionary.is_file():
        raise InputError("no such file", path=str(dictionary))
    items: list[CpeEntry | RecordProblem] = []
    for document in path_documents(dictionary, CPE_DICTIONARY):
        if isinstance(document, RecordProblem):
            raise InputError(document.message, path=document.where)
        items += parse_cpe_dictionary(document[1], path=document[0])
    entries = [i for i in items if isinstance(i, CpeEntry)]
    with _open(ctx, store) as opened:
        found = suggest_mappings(
            opened, branch=branch, entries=entries, user=_user(user), write=not dry_run
        )
    for name, cpe in found:
        typer.echo(f"{name}\t{cpe}")
    for problem in (i for i in items if not isinstance(i, CpeEntry)):
        typer.echo(f"InputError: {problem}", err=True)
    state = "printed" if dry_run else "written as candidates"
    typer.echo(f"{len(found)} candidate(s) {state} from {len(entries)} dictionary entries")


# -- triage ----------------------------------------------------------------------------


@vulns_app.command("triage")
@handle_errors
def triage(
    ctx: typer.Context,
    vuln_id: Annotated[str, typer.Argument(help="Vulnerability id, e.g. CVE-2024-3094.")],
    package: Annotated[str, typer.Argument(help="Source package name.")],
    status: Annotated[
        str, typer.Option("--status", "-s", help="not_affected, fixed, vulnerable or unknown.")
    ],
    branch: Annotated[
        str, typer.Option("--branch", "-b", help="Branch, or * for every branch.")
    ] = "*",
    reason: ReasonOption = "",
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Record it though the store holds no such record, source package or "
            "branch yet (it applies once they are loaded).",
        ),
    ] = False,
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Record a manual decision; it outweighs every other evidence at the next rematch.

    A decision naming a vulnerability, source package or branch the store does not hold
    would never apply, so it is refused unless --force."""
    from repotrack.security import record_triage

    _write(
        ctx,
        store,
        local=lambda opened: record_triage(
            opened,
            vuln_id=vuln_id,
            pkg_name=package,
            branch=branch,
            status=status,
            author=_user(user),
            reason=reason,
            force=force,
        ),
        remote=lambda service: _handed(
            service,
            "/api/v1/vulns/triage",
            {
                "vuln_id": vuln_id,
                "package": package,
                "branch": branch,
                "status": status,
                "reason": reason,
                "force": force,
            },
        ),
    )
    from repotrack.store.branches import branch_name

    typer.echo(f"{vuln_id} {package} [{branch_name(branch)}]: {status}")


# -- queries ---------------------------------------------------------------------------


def _render(verdicts: list[Verdict], fmt: Format, *, evidence: bool = True) -> None:
    if fmt is Format.json:
        _print_json(verdicts)
        return
    for v in verdicts:
        rating = f"\t{v.severity} {v.score:g}".rstrip() if v.severity or v.score else ""
        typer.echo(
            f"{v.branch}\t{v.pkg_name} {v.version}-{v.release}\t{v.vuln_id}\t{v.status}"
            f"\t({v.reason}){rating}"
        )
        if evidence:
            for e in v.evidence:
                typer.echo(f"    {e.kind}: {e.ref} {e.detail}".rstrip())
    typer.echo(f"{len(verdicts)} verdict(s)")


@vulns_app.command("show")
@handle_errors
def show_cmd(
    ctx: typer.Context,
    vuln_id: Annotated[str, typer.Argument(help="Vulnerability or advisory id.")],
    fmt: FormatOption = Format.table,
    store: StoreOption = None,
) -> None:
    """A loaded record and the records linked to it (BDU, GHSA, advisories ↔ CVE)."""
    from repotrack.cli.store_reads import from_plain
    from repotrack.security.queries import VulnerabilityInfo, vulnerability_info

    _need(vuln_id, "vuln_id")
    info: VulnerabilityInfo = _read(
        ctx,
        store,
        local=lambda opened: vulnerability_info(opened, vuln_id=vuln_id),
        remote=lambda service: from_plain(
            VulnerabilityInfo, service.get(f"/api/v1/vulns/info/{_segment(vuln_id)}")
        ),
    )
    if fmt is Format.json:
        _print_json(info)
        return
    state = " (rejected)" if info.rejected else ""
    typer.echo(f"{info.vuln_id}{state}\t{info.source}\t{info.severity} {info.score:g}".rstrip())
    typer.echo(f"  {info.summary}")
    typer.echo(f"  ranges: {info.ranges}; linked: {', '.join(info.linked) or '-'}")


@vulns_app.command("package")
@handle_errors
def package_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Source package name.")],
    branch: BranchOption,
    status: StatusOption = "",
    fmt: FormatOption = Format.table,
    store: StoreOption = None,
) -> None:
    """The vulnerabilities of a package in a branch, each with its evidence."""
    from repotrack.cli.store_reads import from_plain
    from repotrack.security.queries import Verdict, package_verdicts

    _need(name, "name")
    _check_branch(branch)
    _check_status(status)
    params = {"branch": branch, "name": name, "status": status}
    verdicts: list[Verdict] = _read(
        ctx,
        store,
        local=lambda opened: package_verdicts(opened, branch=branch, name=name, status=status),
        remote=lambda service: from_plain(
            list[Verdict], service.get("/api/v1/vulns/package", params)
        ),
    )
    _render(verdicts, fmt)


@vulns_app.command("cve")
@handle_errors
def cve_cmd(
    ctx: typer.Context,
    vuln_id: Annotated[str, typer.Argument(help="Vulnerability id.")],
    branch: Annotated[str, typer.Option("--branch", "-b", help="Only this branch.")] = "",
    status: StatusOption = "",
    fmt: FormatOption = Format.table,
    store: StoreOption = None,
) -> None:
    """The packages a vulnerability touches: affected, fixed, not affected."""
    from repotrack.cli.store_reads import from_plain
    from repotrack.security.queries import Verdict, vulnerability_verdicts

    _need(vuln_id, "vuln_id")
    _check_status(status)
    verdicts: list[Verdict] = _read(
        ctx,
        store,
        local=lambda opened: vulnerability_verdicts(
            opened, vuln_id=vuln_id, branch=branch, status=status
        ),
        remote=lambda service: from_plain(
            list[Verdict],
            service.get(
                f"/api/v1/vulns/cve/{_segment(vuln_id)}", {"branch": branch, "status": status}
            ),
        ),
    )
    _render(verdicts, fmt)


@vulns_app.command("open")
@handle_errors
def open_cmd(
    ctx: typer.Context,
    branch: BranchOption,
    status: StatusOption = "vulnerable",
    fmt: FormatOption = Format.table,
    store: StoreOption = None,
) -> None:
    """Every open (or other --status) verdict of a branch."""
    from repotrack.cli.store_reads import from_plain
    from repotrack.security.queries import Verdict, branch_verdicts

    _check_branch(branch)
    _check_status(status)
    verdicts: list[Verdict] = _read(
        ctx,
        store,
        local=lambda opened: branch_verdicts(opened, branch=branch, status=status),
        remote=lambda service: from_plain(
            list[Verdict], service.get("/api/v1/vulns/branch", {"branch": branch, "status": status})
        ),
    )
    _render(verdicts, fmt, evidence=False)


@vulns_app.command("fixed")
@handle_errors
def fixed_cmd(
    ctx: typer.Context,
    vuln_id: Annotated[str, typer.Argument(help="Vulnerability id.")],
    fmt: FormatOption = Format.table,
    store: StoreOption = None,
) -> None:
    """Where a vulnerability is fixed across branches: first fixed version, open packages."""
    from repotrack.cli.store_reads import from_plain
    from repotrack.security.queries import BranchFix, fixed_across_branches

    _need(vuln_id, "vuln_id")
    answer: list[BranchFix] = _read(
        ctx,
        store,
        local=lambda opened: fixed_across_branches(opened, vuln_id=vuln_id),
        remote=lambda service: from_plain(
            list[BranchFix], service.get(f"/api/v1/vulns/fixed/{_segment(vuln_id)}")
        ),
    )
    if fmt is Format.json:
        _print_json(answer)
        return
    for b in answer:
        typer.echo(
            f"{b.branch}\tfirst fixed: {b.first_fixed or '-'}"
            f"\topen: {', '.join(b.open_packages) or '-'}"
        )


@vulns_app.command("last-fixed")
@handle_errors
def last_fixed_cmd(
    ctx: typer.Context,
    branch: BranchOption,
    limit: Annotated[int, typer.Option("--limit", help="At most this many packages.")] = 100,
    fmt: FormatOption = Format.table,
    store: StoreOption = None,
) -> None:
    """Packages whose latest changelog entry names CVEs, newest build first (ALTRepo's
    last_packages_with_cve_fixed)."""
    from repotrack.cli.store_reads import from_plain
    from repotrack.errors import InputError
    from repotrack.security.queries import FixedPackage, last_packages_with_cve_fixed

    _check_branch(branch)
    if not 1 <= limit <= 10000:  # the query's own check, made first so both paths fail alike
        raise InputError("must be between 1 and 10000", field="limit")
    packages: list[FixedPackage] = _read(
        ctx,
        store,
        local=lambda opened: last_packages_with_cve_fixed(opened, branch=branch, limit=limit),
        remote=lambda service: from_plain(
            list[FixedPackage],
            service.get("/api/v1/vulns/last_fixed", {"branch": branch, "limit": limit}),
        ),
    )
    if fmt is Format.json:
        _print_json(packages)
        return
    for p in packages:
        typer.echo(
            f"{p.changelog_date:%Y-%m-%d}\t{p.pkg_name} {p.version}-{p.release}\t{' '.join(p.cves)}"
        )


@errata_app.command("build")
@handle_errors
def errata_build(
    ctx: typer.Context, branch: BranchOption, user: UserOption = None, store: StoreOption = None
) -> None:
    """Write the branch's errata from its changelogs (new ids, or new versions on change)."""
    from repotrack.security.errata import build_branch_errata

    with _open(ctx, store) as opened:
        built = build_branch_errata(opened, branch=branch, user=_user(user))
    typer.echo(
        f"{branch}: {len(built.created)} new, {len(built.updated)} new version(s), "
        f"{built.unchanged} unchanged; bulletin {built.bulletin or '-'}; advisories: "
        f"{len(built.advisories_created)} new, {len(built.advisories_updated)} new version(s)"
    )


@errata_app.command("list")
@handle_errors
def errata_list(
    ctx: typer.Context,
    branch: BranchOption,
    start: Annotated[str, typer.Option("--from", help="First UTC day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Last UTC day, YYYY-MM-DD.")],
    fmt: FormatOption = Format.table,
    store: StoreOption = None,
) -> None:
    """Errata of a branch updated between two days (latest version of each)."""
    from repotrack.cli.query import parse_day
    from repotrack.cli.store_reads import from_plain
    from repotrack.errors import InputError
    from repotrack.security.errata import ErrataRecord, branch_errata

    first, last = parse_day(start, option="--from"), parse_day(end, option="--to")
    assert first is not None and last is not None
    _check_branch(branch)
    if last < first:  # branch_errata's own check, made first so both paths fail alike
        raise InputError("the end day is before the start day", field="to")
    params = {"branch": branch, "from": first.isoformat(), "to": last.isoformat()}
    found: list[ErrataRecord] = _read(
        ctx,
        store,
        local=lambda opened: branch_errata(opened, branch=branch, start=first, end=last),
        remote=lambda service: from_plain(
            list[ErrataRecord], service.get("/api/v1/vulns/errata", params)
        ),
    )
    if fmt is Format.json:
        _print_json(found)
        return
    for e in found:
        refs = " ".join(link for _, link in e.references)
        typer.echo(
            f"{e.updated:%Y-%m-%d}\t{e.errata_id}\t{e.pkg_name} {e.version}-{e.release}\t{refs}"
        )


class ExportFormat(StrEnum):
    osv = "osv"
    csaf = "csaf"
    oval = "oval"


@vulns_app.command("export")
@handle_errors
def export_cmd(
    ctx: typer.Context,
    branch: BranchOption,
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="osv, csaf (VEX) or oval.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for the files.")],
    ecosystem: Annotated[
        str | None,
        typer.Option("--ecosystem", help="OSV ecosystem (default: vulns.osv_ecosystems)."),
    ] = None,
    store: StoreOption = None,
) -> None:
    """Write the branch's state: one OSV record or CSAF VEX document per vulnerability, or
    one OVAL definitions file."""
    from repotrack.security.exports import export_branch
    from repotrack.security.oval_export import export_oval

    vulns = get_settings(ctx).vulns
    if fmt is ExportFormat.oval:
        with _open(ctx, store) as opened:
            path = export_oval(
                opened,
                branch=branch,
                out=out,
                namespace=vulns.oval_namespace,
                release_package=vulns.oval_release_package,
            )
        typer.echo(f"{branch}: {path}")
        return
    with _open(ctx, store) as opened:
        files = export_branch(
            opened,
            branch=branch,
            fmt=fmt.value,
            out=out,
            ecosystem=ecosystem or vulns.ecosystem(branch),
            prefix=vulns.osv_id_prefix,
            publisher=vulns.csaf_publisher,
            namespace=vulns.csaf_namespace,
            purl_vendor=vulns.purl_vendor,
        )
    typer.echo(f"{branch}: {len(files)} {fmt.value} file(s) in {out}")


def register(app: typer.Typer) -> None:
    """Mount ``vulns`` on the root app and ``vulns`` on the ``load`` sub-app."""
    from repotrack.cli import load

    load.app.command("vulns")(load_vulns_command)
    app.add_typer(vulns_app, name="vulns")
