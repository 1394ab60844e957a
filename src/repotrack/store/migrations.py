"""Numbered SQL migrations under ``store/schema/`` and the table recording them.

Each file ``NNNN_name.sql`` holds ClickHouse statements separated by ``;``; the same
files run on chDB and on a ClickHouse server. A migration is recorded in
``repotrack_migrations`` after all its statements ran; every statement is written to
be repeatable (``IF NOT EXISTS``), so a migration cut short by a crash simply runs
again. Versions are applied in order and never edited once released.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

from repotrack.errors import StoreError
from repotrack.store.base import Store
from repotrack.store.sqltext import split_statements

__all__ = [
    "Migration",
    "MigrationState",
    "available_migrations",
    "migrate",
    "migration_status",
    "open_current_store",
]

log = logging.getLogger(__name__)

MIGRATIONS_TABLE = "repotrack_migrations"
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

_CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE}
(
    version UInt32,
    name String,
    applied DateTime
)
ENGINE = MergeTree ORDER BY version
"""


@dataclass(frozen=True)
class Migration:
    """One schema file."""

    version: int
    name: str
    sql: str


@dataclass(frozen=True)
class MigrationState:
    """A migration and when it was applied to a store (``None``: pending)."""

    version: int
    name: str
    applied: datetime | None


def available_migrations() -> list[Migration]:
    """The schema files shipped with this version, in order."""
    found: list[Migration] = []
    for entry in resources.files("repotrack.store").joinpath("schema").iterdir():
        match = _FILE.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise StoreError(f"duplicate migration numbers in store/schema: {versions}")
    return found


def _applied(store: Store) -> dict[int, datetime]:
    store.command(_CREATE_TABLE)
    rows = store.query("SELECT version, max(applied) FROM repotrack_migrations GROUP BY version")
    return {int(version): applied for version, applied in rows}


def migration_status(store: Store) -> list[MigrationState]:
    """Every known migration with its applied time, plus unknown applied versions."""
    applied = _applied(store)
    states = [
        MigrationState(m.version, m.name, applied.get(m.version)) for m in available_migrations()
    ]
    known = {m.version for m in states}
    states += [MigrationState(v, "(unknown)", t) for v, t in applied.items() if v not in known]
    return sorted(states, key=lambda s: s.version)


def migrate(store: Store) -> list[str]:
    """Apply pending migrations in order; return their file names (empty when current)."""
    applied = _applied(store)
    done: list[str] = []
    for migration in available_migrations():
        if migration.version in applied:
            continue
        label = f"{migration.version:04d}_{migration.name}"
        for statement in split_statements(migration.sql):
            try:
                store.command(statement)
            except StoreError as exc:
                raise StoreError(f"migration {label} failed: {exc}") from exc
        store.insert(
            MIGRATIONS_TABLE,
            ("version", "name", "applied"),
            [(migration.version, migration.name, datetime.now(UTC))],
        )
        log.info("store migration applied", extra={"migration": label, "store": store.url})
        done.append(label)
    return done


def open_current_store(url: str) -> Store:
    """``open_store``; an embedded store also gets the migrations it lacks.

    Why: the embedded store belongs to this installation, so after an upgrade whichever
    process opens it first (a command, the service, the daemon) brings it to this
    version's schema; before 2026-12-07 only loads, the service and the daemon did, and a
    read or a rematch on a store one release older failed with the engine's "No such
    column". A ClickHouse server's schema is its administrator's (``repotrack db
    migrate``).
    """
    from repotrack.store.urls import open_store

    store = open_store(url)
    if store.url.startswith("chdb:"):
        try:
            migrate(store)
        except BaseException:
            store.close()
            raise
    return store
