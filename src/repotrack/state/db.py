"""Engines, sessions and migrations of the state database.

SQLite (the default, a file under the data directory) and PostgreSQL are both
first-class. SQLite gets WAL, a busy timeout and foreign keys switched on for every
connection, because the service, the scheduler and CLI runs share the file.

Opening a database that is already current costs one ``SELECT`` on
``alembic_version``: the head revision is read from the migration files' own
``revision``/``down_revision`` lines, and Alembic (about a third of a second of
imports and script parsing) is loaded only when there is something to upgrade.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from repotrack.errors import ConfigError, StoreError

__all__ = [
    "StateDB",
    "current_revision",
    "is_current",
    "make_engine",
    "migrate",
    "migration_head",
]

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get their directory created."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    if url.startswith("postgresql"):
        return create_engine(url, pool_pre_ping=True, future=True)
    raise ConfigError(
        f"unsupported state database URL scheme in {url.split('://', 1)[0]!r}; "
        "use sqlite:///path or postgresql+psycopg://...",
        key="state.url",
    )


def _sqlite_file(url: str) -> str:
    """The file a ``sqlite:///`` URL names, as SQLAlchemy reads it (escapes undone:
    ``url_path``); empty for an in-memory database or an unparsable URL."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).database or ""
    except Exception:  # an unparsable URL: create_engine names it
        return ""


def _sqlite_engine(url: str) -> Engine:
    path = _sqlite_file(url)
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


def _alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> str | None:
    """Bring the database at ``url`` to the newest schema; returns the revision now in place."""
    from alembic import command

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            config = _alembic_config(url)
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
        return current_revision(engine)
    except SQLAlchemyError as exc:
        raise StoreError(
            f"state database {_where(url)} cannot be used: {one_line_reason(exc)}"
        ) from exc
    finally:
        engine.dispose()


def one_line_reason(exc: SQLAlchemyError) -> str:
    """The driver's own message (``file is not a database``), without SQLAlchemy's
    statement dump and "Background on this error" link, so the CLI shows one line."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _where(url: str) -> str:
    """A SQLite file's path; other URLs without their password."""
    if url.startswith("sqlite") and "///" in url:
        return _sqlite_file(url) or url
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL: make_engine already named it
        return "(unparsable URL)"


@cache
def _file_heads() -> frozenset[str] | None:
    """Head revisions named by the migration files (``None``: a file we cannot read simply,
    such as a merge revision with a tuple; then Alembic decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((_MIGRATIONS / "versions").glob("*.py")):
        values = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        revision, parent = values.get("revision", ""), values.get("down_revision", "None")
        if not re.fullmatch(r"[\"'][\w-]+[\"']", revision):
            return None
        revisions.add(revision[1:-1])
        if parent != "None":
            if not re.fullmatch(r"[\"'][\w-]+[\"']", parent):
                return None
            parents.add(parent[1:-1])
    return frozenset(revisions - parents)


def is_current(engine: Engine) -> bool:
    """Whether the database is at the head revision, asked without loading Alembic."""
    heads = _file_heads()
    if not heads or len(heads) != 1:
        return False
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:
        return False  # no table yet (a new database) or not reachable: let migrate() say
    return {row[0] for row in rows} == set(heads)


def migration_head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return MigrationContext.configure(conn).get_current_revision()


class StateDB:
    """The state database of one process: an engine and a session factory.

    Built once at the entry point from ``settings.state_url`` and passed down.
    ``ensure_schema`` migrates on first use, so the embedded default needs no setup step.
    """

    def __init__(self, url: str, *, auto_migrate: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        if auto_migrate and not is_current(self.engine):
            migrate(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except SQLAlchemyError as exc:
            session.rollback()
            raise StoreError(
                f"state database error: {exc.__class__.__name__}: {one_line_reason(exc)}"
            ) from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def close(self) -> None:
        self.engine.dispose()
