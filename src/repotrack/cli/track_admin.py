"""Tracker administration on the state database: ``repotrack db import-legacy``,
``repotrack track gc``, ``repotrack track check``.

Registered by ``track_engine`` (no new CLI area): like ``track run``, these open the
state database of the settings directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from repotrack.cli.common import err_console, get_settings, handle_errors

__all__ = ["check", "gc", "import_legacy", "register"]


@handle_errors
def import_legacy(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="The original patch-tracking's db.sqlite.")],
) -> None:
    """Import the original patch-tracking's items and issues (its db.sqlite).

    Safe to run again: items already here are kept as they are and nothing is added
    twice. Prints the counts; exits 1 when a row had to be refused (listed on stderr).
    """
    from repotrack.state import StateDB
    from repotrack.state.legacy_import import import_legacy_db

    settings = get_settings(ctx)
    db = StateDB(settings.state_url)
    try:
        with db.session() as session:
            result = import_legacy_db(session, path)
    finally:
        db.close()
    for line in result.refused:
        err_console.print(f"refused {line}", markup=False, highlight=False)
    typer.echo(result.summary())
    if result.refused:
        raise typer.Exit(1)


@handle_errors
def gc(ctx: typer.Context) -> None:
    """Remove cached upstream mirrors and downstream clones no tracking item uses.

    A directory another run is using is left for the next time. The service's
    scheduler does the same after each scan.
    """
    from repotrack.state import StateDB
    from repotrack.tracking.gc import prune_caches

    settings = get_settings(ctx)
    db = StateDB(settings.state_url)
    try:
        result = prune_caches(settings, db)
    finally:
        db.close()
    for name in result.removed:
        typer.echo(f"removed {name}")
    typer.echo(result.summary())


@handle_errors
def check(
    ctx: typer.Context,
    repo: Annotated[
        str | None, typer.Option("--repo", help="Only items of this downstream repo.")
    ] = None,
) -> None:
    """Check every item before it runs: upstream, token, downstream, spec file, push rights.

    One line per item and check; exits 1 when any check failed.
    """
    from repotrack.state import StateDB
    from repotrack.tracking.check import check_items

    settings = get_settings(ctx)
    db = StateDB(settings.state_url)
    try:
        results = check_items(settings, db, repo=repo)
    finally:
        db.close()
    if not results:
        typer.echo("no tracking item to check")
    for result in results:
        for line in result.lines():
            typer.echo(line)
    failed = sum(1 for result in results if not result.ok)
    if results:
        typer.echo(f"{len(results) - failed} item(s) ready, {failed} with problems")
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Attach ``import-legacy`` to the ``db`` group, ``gc`` and ``check`` to ``track``."""
    from repotrack.cli.db import db_app
    from repotrack.cli.track import track_app

    db_app.command("import-legacy")(import_legacy)
    track_app.command("gc")(gc)
    track_app.command("check")(check)
    del app
