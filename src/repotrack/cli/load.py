"""``repotrack load ...``: loaders of distribution data into the analytics store.

``load repo`` loads a repository snapshot (ALT apt-rpm date tree, createrepo tree,
or a directory of RPMs) through :func:`repotrack.ingest.load_repo`, with a Rich
progress line (packages, new, packages/s) on a terminal and a summary line always.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from repotrack.cli.common import console, err_console, fail, get_settings, handle_errors
from repotrack.errors import InputError

if TYPE_CHECKING:
    from repotrack.ingest import LoadProgress

__all__ = ["EXIT_INTERRUPTED", "INTERRUPTED", "parse_date", "register", "run_repo_load"]

#: Default worker processes: the CPUs, at most 8 (beyond that the store is the limit).
DEFAULT_WORKERS = min(os.cpu_count() or 1, 8)
EXIT_INTERRUPTED = 130
INTERRUPTED = "interrupted: nothing was published; run the same command again to finish"

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
    verbose: bool = False,
) -> None:
    """Open the store, load, print the summary line; shared with ``repo_loader``.

    Ctrl-C (KeyboardInterrupt, left to the caller) stops the load with nothing
    published, since the root row is written last; the same command again finishes it.
    """
    from repotrack.ingest import load_repo
    from repotrack.store import migrate, open_store

    if not path.exists():
        raise InputError("no such directory", path=str(path))
    with open_store(store_url) as store:
        if store_url.startswith("chdb:"):
            migrate(store)  # the embedded store is ours to set up; a server is not
        with make_progress(err_console, verbose=verbose) as progress:
            summary = load_repo(
                store,
                branch=branch,
                path=path,
                date=day,
                tag=tag,
                force=force,
                workers=workers,
                progress=progress,
            )
    console.print(summary.line(), markup=False, highlight=False)


# -- progress ----------------------------------------------------------------------------
class RichLoadProgress:
    """Packages done, how many were new, and packages per second."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task = progress.add_task("loading", total=None, done=0, new=0, rate=0.0)
        self._done = 0
        self._new = 0

    def advance(self, *, new: bool) -> None:
        self._done += 1
        self._new += int(new)
        speed = self._progress.tasks[0].speed or 0.0
        self._progress.update(self._task, advance=1, done=self._done, new=self._new, rate=speed)


class EveryNProgress:
    """The original's ``--verbose``: a line on stderr every ``every`` packages."""

    def __init__(self, every: int = 1000) -> None:
        self._every = every
        self._done = 0
        self._new = 0

    def advance(self, *, new: bool) -> None:
        self._done += 1
        self._new += int(new)
        if self._done % self._every == 0:
            print(f"{self._done} packages processed ({self._new} new)", file=sys.stderr)


@contextlib.contextmanager
def make_progress(console: Console, *, verbose: bool) -> Iterator[LoadProgress | None]:
    """Lines with ``verbose``, a transient bar on a terminal, else nothing."""
    if verbose:
        yield EveryNProgress()
        return
    if not console.is_terminal:
        yield None
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description} {task.fields[done]} packages"),
        TextColumn("({task.fields[new]} new)"),
        TextColumn("{task.fields[rate]:.0f} packages/s"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        yield RichLoadProgress(progress)


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
) -> None:
    """Load a repository snapshot: ALT apt-rpm date tree, createrepo tree or RPM directory."""
    settings = get_settings(ctx)
    try:
        run_repo_load(
            store_url=settings.store_url,
            branch=branch,
            path=path,
            day=parse_date(date_),
            tag=tag,
            force=force,
            workers=workers,
        )
    except KeyboardInterrupt:
        raise fail(INTERRUPTED, code=EXIT_INTERRUPTED) from None
