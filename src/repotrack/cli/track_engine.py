"""``repotrack track run`` and ``repotrack track status``: the tracker on the state database.

Unlike ``track add|query|delete``, which talk to a server over HTTP, these open the
state database of the settings directly. That is safe while ``repotrack serve`` runs on
the same database: a run takes the item's lock (an advisory lock on PostgreSQL, a lock
row on SQLite), so the service's scheduler and a hand-started run never work on the
same item at once; a busy item is reported as ``locked``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from repotrack.cli.common import console, get_settings, handle_errors

if TYPE_CHECKING:
    from repotrack.tracking.pipeline import ItemResult
    from repotrack.tracking.runs import ItemStatus

__all__ = ["register", "run", "status"]


@handle_errors
def run(
    ctx: typer.Context,
    repo: Annotated[
        str | None, typer.Option("--repo", help="Only items of this downstream repo.")
    ] = None,
    branch: Annotated[
        str | None, typer.Option("--branch", help="Only items of this downstream branch.")
    ] = None,
    once: Annotated[
        bool,
        typer.Option("--once", help="One scan, then exit (default: scan every scan_interval)."),
    ] = False,
    include_backoff: Annotated[
        bool,
        typer.Option(
            "--include-backoff", help="Also run items that are backing off after failures."
        ),
    ] = False,
) -> None:
    """Run the tracker now, in this process, and print what it did per item.

    Exits 1 when an item failed in a ``--once`` scan.
    """
    import time

    from repotrack.state import StateDB
    from repotrack.tracking.pipeline import Tracker

    settings = get_settings(ctx)
    db = StateDB(settings.state_url)
    try:
        tracker = Tracker(settings, db)
        while True:
            results = tracker.scan(repo=repo, branch=branch, due_only=not include_backoff)
            _print_results(results)
            if once:
                break
            time.sleep(settings.tracking.scan_interval)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    finally:
        db.close()
    if any(r.outcome == "failed" for r in results):
        raise typer.Exit(1)


def _print_results(results: list[ItemResult]) -> None:
    if not results:
        typer.echo("no tracking item to run")
    for result in results:
        typer.echo(_describe(result))


def _describe(result: ItemResult) -> str:
    where = f"{result.repo} {result.branch}".strip() or f"item {result.item_id}"
    line = f"{where}: {result.outcome}"
    if result.commits:
        line += f", {result.commits} commit(s)"
    if result.branch_name and result.outcome == "success":
        line += f", branch {result.branch_name}, issue #{result.issue}, PR {result.pr_url}"
    if result.verification and result.outcome == "success":
        line += f", {result.verification}"
    if result.error:
        line += f" ({result.error})"
    return line


@handle_errors
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show each tracking item's health: last run, failures, backoff, last error."""
    from repotrack.state import StateDB
    from repotrack.tracking.runs import status_summary

    settings = get_settings(ctx)
    db = StateDB(settings.state_url)
    try:
        rows = status_summary(db)
    finally:
        db.close()
    if not rows and not as_json:
        typer.echo("no tracking items")
    elif as_json:
        _print_json(rows)
    else:
        _print_table(rows)


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ") if value else "-"


def _print_table(rows: list[ItemStatus]) -> None:
    from rich.table import Table

    table = Table(title="patch tracking items")
    for name in (
        "item", "enabled", "scm_commit", "last run", "outcome",
        "failures", "backoff until", "last error",
    ):  # fmt: skip
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(
            f"{row.repo} {row.branch}",
            "yes" if row.enabled else "no",
            (row.scm_commit or "-")[:12],
            _when(row.last_run_at),
            row.last_outcome or "-",
            str(row.consecutive_failures),
            _when(row.backoff_until),
            row.last_error or "",
            style=None if not row.consecutive_failures else "red",
        )
    console.print(table)


def _print_json(rows: list[ItemStatus]) -> None:
    import dataclasses
    import json

    def plain(row: ItemStatus) -> dict[str, object]:
        data = dataclasses.asdict(row)
        return {k: (_when(v) if isinstance(v, datetime) else v) for k, v in data.items()}

    typer.echo(json.dumps([plain(row) for row in rows], indent=2))


def register(app: typer.Typer) -> None:
    """Attach ``run`` and ``status`` to the ``track`` group of ``cli/track.py``, and the
    administration commands of ``cli/track_admin.py`` to theirs."""
    from repotrack.cli import track_admin
    from repotrack.cli.track import track_app

    track_app.command("run")(run)
    track_app.command("status")(status)
    track_admin.register(app)
