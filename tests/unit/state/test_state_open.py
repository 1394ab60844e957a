"""Opening a current state database never loads Alembic; an old or new one is migrated."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from repotrack.state import StateDB, migration_head
from repotrack.state.db import _file_heads, is_current

PROBE = """
import sys
from repotrack.state import StateDB
db = StateDB(sys.argv[1])
db.close()
print("alembic" in sys.modules)
"""


def opened_with_alembic(url: str) -> bool:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, url], capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.strip() == "True"


def test_heads_read_from_files_agree_with_alembic() -> None:
    assert _file_heads() == frozenset({migration_head()})


def test_current_database_opens_without_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    assert opened_with_alembic(url)  # new: migrated
    assert not opened_with_alembic(url)  # current: one SELECT
    from alembic import command

    from repotrack.state.db import _alembic_config

    command.downgrade(_alembic_config(url), "0001")  # back to revision 0001
    engine = sa.create_engine(url)
    assert not is_current(engine)
    engine.dispose()
    assert opened_with_alembic(url)  # behind: upgraded again
    db = StateDB(url)
    assert is_current(db.engine)
    with db.engine.connect() as conn:
        assert sa.inspect(conn).has_table("tracking_lock")
    db.close()


def test_a_home_with_url_escapes_in_its_name_gets_its_state_there(tmp_path: Path) -> None:
    """Before 2026-12-07 the state database's directory was made from the URL's raw
    text (``p%2541th``) beside the one SQLAlchemy opened (``p%41th``)."""
    from repotrack.url_paths import url_path

    parent = tmp_path / "homes"
    home = parent / "p%41th?#"
    db = StateDB(f"sqlite:///{url_path(home / 'state.sqlite')}")
    db.close()
    assert [p.name for p in parent.iterdir()] == [home.name]
    assert (home / "state.sqlite").is_file()
