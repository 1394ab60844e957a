"""``repotrack load ...``: loaders of distribution data into the analytics store.

``load repo`` loads a repository snapshot (ALT apt-rpm date tree, createrepo tree,
or a directory of RPMs) through :func:`repotrack.ingest.load_repo`, with a progress
bar (done/total, percent, rate, time left) on a terminal, plain progress lines
otherwise (``cli/progress.py``), and a summary line always.

While ``repotrack serve`` holds the embedded store, the load is handed to the service
instead (``cli/load_remote.py``) when an account password is at hand; ``--via-service``
hands it over without trying the store first.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from repotrack.cli.common import console, err_console, fail, get_settings, handle_errors
from repotrack.cli.handoff_options import (
    CacertOption,
    InsecureOption,
    PasswordOption,
    ServerOption,
    UserOption,
    ViaServiceOption,
)
from repotrack.cli.handoff_options import handoff as service_handoff
from repotrack.errors import InputError, StoreError

if TYPE_CHECKING:
    from rich.console import Console

    from repotrack.cli.load_remote import HandOff, LoadRequest
    from repotrack.ingest import LoadProgress
    from repotrack.store import Store

__all__ = [
    "EXIT_INTERRUPTED",
    "INTERRUPTED",
    "interrupted_message",
    "parse_date",
    "register",
    "run_repo_load",
]

#: Default worker processes: the CPUs, at most 8 (beyond that the store is the limit).
DEFAULT_WORKERS = min(os.cpu_count() or 1, 8)
EXIT_INTERRUPTED = 130
INTERRUPTED = "interrupted: nothing was published; run the same command again to finish"
HANDOFF_HINT = (
    "to hand the load to the service, give its password with --password or "
    "REPOTRACK_PASSWORD (and --user or REPOTRACK_USER unless it is service.user), "
    "or pass --via-service"
)

app = typer.Typer(help="Load distribution data into the analytics store.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="load")


def parse_date(value: str) -> date:
    """``YYYY-MM-DD`` -> date (a UTC day)."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"expected YYYY-MM-DD, got {value!r}", field="--date") from None


def run_repo_load(
    *,
    store_url: str,
    branch: str,
    path: Path,
    day: date,
    tag: str,
    force: bool,
    workers: int,
    skip_bad: bool = False,
    verify_known: bool = False,
    verbose: bool = False,
    handoff: HandOff | None = None,
) -> None:
    """Open the store, load, print the summary line; shared with ``repo_loader``.

    With ``handoff``, a store held by another process (the service) makes this hand
    the load to the service instead, and ``handoff.always`` skips the store entirely.
    Ctrl-C (KeyboardInterrupt, left to the caller) stops the load with nothing
    published, since the root row is written last; the same command again finishes it.
    """
    from repotrack.cli.load_remote import LoadRequest, store_held_elsewhere
    from repotrack.store import open_current_store

    request = LoadRequest(
        branch=branch,
        path=path,
        date=day,
        tag=tag,
        force=force,
        workers=workers,
        skip_bad=skip_bad,
        verify_known=verify_known,
    )
    if handoff is not None and handoff.always:
        handoff.run(request)  # the path is checked where it is read: on the service
        return
    if not path.exists():
        raise InputError("no such directory", path=str(path))
    try:
        store = open_current_store(store_url)  # the embedded one migrated: ours to set up
    except StoreError as exc:
        if handoff is None or not store_held_elsewhere(exc):
            raise
        handoff.after_lock(exc, request)
        return
    _load_locally(store, request=request, verbose=verbose)


def _load_locally(store: Store, *, request: LoadRequest, verbose: bool) -> None:
    with store, make_progress(err_console, verbose=verbose) as progress:
        summary = request.run(store, progress)
    print_summary(summary.line(), summary.bad)


def print_summary(line: str, bad: Sequence[tuple[str, str]]) -> None:
    """The summary line on stdout; each package left out (``--skip-bad``) on stderr."""
    for name, reason in bad:
        err_console.print(
            f"left out {name}: {reason}", markup=False, highlight=False, soft_wrap=True
        )
    # emoji=False: an image tag such as "p10:cloud:::..." holds ":cloud:", an emoji code
    console.print(line, markup=False, highlight=False, emoji=False, soft_wrap=True)


# -- progress ----------------------------------------------------------------------------
@contextlib.contextmanager
def make_progress(console: Console, *, verbose: bool) -> Iterator[LoadProgress]:
    """The original's lines with ``verbose``; a bar on a terminal; else plain lines."""
    from repotrack.cli.progress import EveryNProgress, LineProgress, bar

    if verbose:
        yield EveryNProgress()
        return
    if not console.is_terminal:
        yield LineProgress()
        return
    with bar(console) as shown:
        yield shown


@app.command("repo")
@handle_errors
def repo(
    ctx: typer.Context,
    branch: Annotated[str, typer.Argument(help="Branch (package set) name, e.g. p10.")],
    path: Annotated[Path, typer.Argument(help="Snapshot directory.")],
    date_: Annotated[str, typer.Option("--date", "-A", help="Snapshot date, YYYY-MM-DD (UTC).")],
    tag: Annotated[str, typer.Option("--tag", "-t", help="Stored as pkgset_tag.")] = "",
    force: Annotated[
        bool, typer.Option("--force", "-F", help="Load even if this branch and date exist.")
    ] = False,
    workers: Annotated[
        int, typer.Option("--workers", "-w", help="Worker processes reading packages.")
    ] = DEFAULT_WORKERS,
    skip_bad: Annotated[
        bool,
        typer.Option(
            "--skip-bad",
            help="Leave damaged or unreadable packages out of the snapshot and list them, "
            "instead of failing the load.",
        ),
    ] = False,
    verify_known: Annotated[
        bool,
        typer.Option(
            "--verify-known",
            help="Re-read packages the store already holds and check that each file is "
            "sound and is the one stored under its id.",
        ),
    ] = False,
    via_service: ViaServiceOption = False,
    server: ServerOption = None,
    user: UserOption = None,
    password: PasswordOption = None,
    cacert: CacertOption = None,
    insecure: InsecureOption = False,
) -> None:
    """Load a repository snapshot: ALT apt-rpm date tree, createrepo tree or RPM directory.

    While `repotrack serve` holds the embedded store, the load is handed to the service
    when a password is given (--password or $REPOTRACK_PASSWORD); --via-service always
    hands it over.
    """
    settings = get_settings(ctx)
    handing = service_handoff(
        ctx,
        via_service=via_service,
        server=server,
        user=user,
        password=password,
        cacert=cacert,
        insecure=insecure,
        hint=HANDOFF_HINT,
    )
    try:
        run_repo_load(
            store_url=settings.store_url,
            branch=branch,
            path=path,
            day=parse_date(date_),
            tag=tag,
            force=force,
            workers=workers,
            skip_bad=skip_bad,
            verify_known=verify_known,
            handoff=handing,
        )
    except KeyboardInterrupt as exc:
        raise fail(interrupted_message(exc), code=EXIT_INTERRUPTED) from None


def interrupted_message(exc: KeyboardInterrupt) -> str:
    """What Ctrl-C did: stopped a local load (nothing published), or left the service's job."""
    from repotrack.cli.load_remote import Detached

    return str(exc) if isinstance(exc, Detached) else INTERRUPTED
