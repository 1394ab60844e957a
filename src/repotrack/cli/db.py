"""``repotrack db init|migrate|status|seed|gc``: the analytics store's schema and seed data.

``migrate`` also brings the state database (tracking items, issues) up to date when
``repotrack.state`` provides ``migrate``. chDB and the store module are imported inside
the commands so that ``repotrack --help`` stays instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from repotrack.cli.common import console, get_settings, handle_errors

if TYPE_CHECKING:
    from repotrack.config import Settings
    from repotrack.store import Store

__all__ = ["db_app", "register"]

db_app = typer.Typer(help="Create and upgrade the analytics store's schema.", no_args_is_help=True)

StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Store URL: chdb:///path or clickhouse://user:pw@host:8123/db "
        "(default: settings store.url, else chDB under the repotrack home).",
    ),
]


def _open(ctx: typer.Context, url: str | None) -> Store:
    from repotrack.store import open_store

    return open_store(url or get_settings(ctx).store_url)


@db_app.command("init")
@handle_errors
def init(ctx: typer.Context, store: StoreOption = None) -> None:
    """Create the whole schema (tables, buffers, views) in the store."""
    from repotrack.store import migrate, redact_url

    with _open(ctx, store) as opened:
        applied = migrate(opened)
        url = redact_url(opened.url)
    _report(applied, url)


@db_app.command("migrate")
@handle_errors
def migrate_cmd(ctx: typer.Context, store: StoreOption = None) -> None:
    """Apply pending store migrations, then the state database's."""
    from repotrack.store import migrate, redact_url

    with _open(ctx, store) as opened:
        applied = migrate(opened)
        url = redact_url(opened.url)
    _report(applied, url)
    revision = _migrate_state(get_settings(ctx))
    if revision is not None:
        console.print(f"state database at revision {revision}", markup=False, highlight=False)


def _migrate_state(settings: Settings) -> str | None:
    """Run ``repotrack.state.migrate`` when that module exists; skip quietly otherwise."""
    try:
        from repotrack import state
    except ImportError:
        return None
    migrate = getattr(state, "migrate", None)
    if migrate is None:
        return None
    revision = migrate(settings.state_url)
    return None if revision is None else str(revision)


def _report(applied: list[str], url: str) -> None:
    if applied:
        for name in applied:
            console.print(f"applied {name}", markup=False, highlight=False)
        console.print(f"store {url}: {len(applied)} migration(s) applied", markup=False)
    else:
        console.print(f"store {url}: schema is up to date", markup=False, highlight=False)


@db_app.command("status")
@handle_errors
def status(ctx: typer.Context, store: StoreOption = None) -> None:
    """List the store's migrations and when each was applied."""
    from datetime import datetime

    from rich.table import Table

    from repotrack.cli.store_reads import read_store
    from repotrack.store import migration_status, to_plain

    states = read_store(
        get_settings(ctx),
        store,
        local=lambda opened: [
            {"version": m.version, "name": m.name, "applied": to_plain(m.applied)}
            for m in migration_status(opened)
        ],
        remote=lambda service: service.get("/api/v1/store/migrations"),
        migrated=False,  # what is pending is the answer
    )
    table = Table("version", "name", "applied (UTC)")
    for state in states:
        applied = state["applied"]
        shown = datetime.fromisoformat(applied).strftime("%Y-%m-%d %H:%M:%S") if applied else None
        table.add_row(f"{state['version']:04d}", state["name"], shown or "pending")
    console.print(table)
    pending = sum(1 for s in states if s["applied"] is None)
    if pending:
        console.print(f"{pending} pending: run 'repotrack db migrate'", markup=False)


@db_app.command("seed")
@handle_errors
def seed(ctx: typer.Context, store: StoreOption = None) -> None:
    """Load the license aliases (RPM license spellings -> SPDX ids)."""
    from repotrack.store import seed_license_aliases

    with _open(ctx, store) as opened:
        added = seed_license_aliases(opened)
    console.print(f"license aliases: {added} added", markup=False, highlight=False)


@db_app.command("gc")
@handle_errors
def gc(
    ctx: typer.Context,
    store: StoreOption = None,
    grace_hours: Annotated[
        float | None,
        typer.Option(
            "--grace-hours",
            min=0,
            help="On a shared ClickHouse server, leave alone what loads started less than "
            "this long ago may still be writing (default 6; the embedded store is "
            "always owned by this process, so nothing there is in progress).",
        ),
    ] = None,
) -> None:
    """Remove what interrupted loads left: partial packages and unpublished package sets.

    Every load does the cheap part of this itself before it starts (the rows its
    journal names); gc also scans the tables for leftovers of loads made before the
    journal existed, which reads whole columns on a large store.
    """
    from datetime import timedelta

    from repotrack.ingest.journal import collect_garbage
    from repotrack.store import migrate

    url = store or get_settings(ctx).store_url
    with _open(ctx, store) as opened:
        if url.startswith("chdb:"):
            migrate(opened)
        grace = None if grace_hours is None else timedelta(hours=grace_hours)
        report = collect_garbage(opened, grace=grace)
    console.print(
        f"store {opened.url}: {report.line()}"
        if report
        else f"store {opened.url}: nothing to remove",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
