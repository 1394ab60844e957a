"""``repotrack load acl|beehive|bugzilla|repocop|watch|spdx|repology``: the enrichment feeds.

Each command reads its feed from the configured URL (``[feeds]`` in repotrack.toml),
from a URL given as SOURCE, or from a local file or directory (offline), runs the
feed's loader (``ingest.feeds.run_feed``) and prints one summary line; every skipped
line is printed on stderr. The embedded store is opened directly: while
``repotrack serve`` holds it, run the feed there (``POST /api/v1/feeds/{name}/run``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from repotrack.cli.common import console, err_console, get_settings, handle_errors

if TYPE_CHECKING:
    from repotrack.config import Settings
    from repotrack.ingest.feeds import FeedRequest, FeedResult

__all__ = ["print_result", "register", "run_feed_locally"]

SourceArg = Annotated[
    str | None,
    typer.Argument(help="URL or local file/directory (default: the configured feeds.<name>_url)."),
]
BranchOpt = Annotated[
    list[str] | None, typer.Option("--branch", "-b", help="Only this branch (repeatable).")
]


def register(root: typer.Typer) -> None:
    from repotrack.cli.load import app as load_app

    load_app.command("acl")(acl)
    load_app.command("beehive")(beehive)
    load_app.command("bugzilla")(bugzilla)
    load_app.command("repocop")(repocop)
    load_app.command("watch")(watch)
    load_app.command("spdx")(spdx)
    load_app.command("repology")(repology)


def run_feed_locally(settings: Settings, store_url: str, request: FeedRequest) -> FeedResult:
    """Open the store (migrating an embedded one), run the feed, close the store.

    The run is recorded in the state database's feed history (trigger ``cli``).
    """
    from repotrack.daemon.feeds import record_run
    from repotrack.ingest.feeds import run_feed
    from repotrack.state import StateDB
    from repotrack.store import open_current_store

    results: list[FeedResult] = []

    def run() -> tuple[int, str]:
        with open_current_store(store_url) as store:
            results.append(run_feed(store, settings.feeds, request))
        return results[0].rows, results[0].line()

    db = StateDB(settings.state_url)
    try:
        record_run(db, request.feed, "cli", run)
    finally:
        db.close()
    return results[0]


def print_result(result: FeedResult) -> None:
    for problem in result.problems:
        err_console.print(f"skipped: {problem}", markup=False, highlight=False)
    if result.skipped > len(result.problems):
        err_console.print(f"... and {result.skipped - len(result.problems)} more", markup=False)
    console.print(result.line(), markup=False, highlight=False, soft_wrap=True)


def _run(ctx: typer.Context, request: FeedRequest) -> None:
    settings = get_settings(ctx)
    print_result(run_feed_locally(settings, settings.store_url, request))


@handle_errors
def acl(ctx: typer.Context, source: SourceArg = None, branch: BranchOpt = None) -> None:
    """Load acl lists (list.packages.<branch>, list.groups.<branch>) from a directory listing."""
    from repotrack.ingest.feeds import FeedRequest

    _run(ctx, FeedRequest("acl", location=source, branches=tuple(branch or ())))


@handle_errors
def beehive(
    ctx: typer.Context,
    source: SourceArg = None,
    branch: BranchOpt = None,
    arch: Annotated[
        list[str] | None, typer.Option("--arch", "-a", help="Only this arch (repeatable).")
    ] = None,
) -> None:
    """Load beehive build results per branch and arch (feeds.beehive_branches, _arches)."""
    from repotrack.ingest.feeds import FeedRequest

    request = FeedRequest(
        "beehive", location=source, branches=tuple(branch or ()), arches=tuple(arch or ())
    )
    _run(ctx, request)


@handle_errors
def bugzilla(ctx: typer.Context, source: SourceArg = None) -> None:
    """Load Bugzilla's CSV bug list; only new or changed bugs are added."""
    from repotrack.ingest.feeds import FeedRequest

    _run(ctx, FeedRequest("bugzilla", location=source))


@handle_errors
def repocop(ctx: typer.Context, source: SourceArg = None) -> None:
    """Load repocop's test results (json.bz2) when the file is newer than the stored ones."""
    from repotrack.ingest.feeds import FeedRequest

    _run(ctx, FeedRequest("repocop", location=source))


@handle_errors
def watch(ctx: typer.Context, source: SourceArg = None) -> None:
    """Load watch-total (newer upstream versions) when the file is newer than the stored one."""
    from repotrack.ingest.feeds import FeedRequest

    _run(ctx, FeedRequest("watch", location=source))


@handle_errors
def spdx(
    ctx: typer.Context,
    git_root: Annotated[
        str | None,
        typer.Option("--git-root", "-g", help="license-list-data clone (default ~/SPDX)."),
    ] = None,
    update: Annotated[
        bool,
        typer.Option("--update/--no-update", help="Clone or pull first; --no-update: offline."),
    ] = True,
    url: Annotated[
        str | None,
        typer.Option("--url", help="Repository to clone (default: feeds.spdx_git_url)."),
    ] = None,
) -> None:
    """Load SPDX licenses and exceptions from a license-list-data git tree."""
    from repotrack.ingest.feeds import FeedRequest

    options = {"update": "1" if update else "0"}
    if git_root:
        options["git_root"] = git_root
    _run(ctx, FeedRequest("spdx", location=url, options=options))


@handle_errors
def repology(
    ctx: typer.Context,
    source: SourceArg = None,
    repo: Annotated[
        list[str] | None,
        typer.Option("--repo", "-r", help="Repology repo, e.g. alt_p10 (repeatable)."),
    ] = None,
) -> None:
    """Load ALT package name -> repology project mappings (for the vulnerability mapping)."""
    from repotrack.ingest.feeds import FeedRequest

    options = {"repos": ",".join(repo)} if repo else {}
    _run(ctx, FeedRequest("repology", location=source, options=options))
