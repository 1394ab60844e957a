"""``repotrack track run`` and ``repotrack track status`` on a real state database."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import repotrack.tracking
from repotrack.cli.main import app
from repotrack.config import load_settings
from repotrack.state import StateDB, Tracking


def _add_broken_item() -> None:
    db = StateDB(load_settings().state_url)
    with db.session() as session:
        session.add(
            Tracking(
                version_control="git",
                scm_repo="-upload-pack=touch /tmp/x",  # refused before git runs
                scm_branch="main",
                scm_commit="a" * 40,
                repo="https://gitee.com/o/n",
                branch="master",
            )
        )
    db.close()


def test_empty_database() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["track", "status"])
    assert result.exit_code == 0 and "no tracking items" in result.output
    result = runner.invoke(app, ["track", "run", "--once"])
    assert result.exit_code == 0 and "no tracking item to run" in result.output


def test_failed_item_shows_in_run_and_status(tmp_path: Path) -> None:
    _add_broken_item()
    runner = CliRunner()
    result = runner.invoke(app, ["track", "run", "--once"])
    assert result.exit_code == 1
    assert "https://gitee.com/o/n master: failed (InputError: scm_repo:" in result.output
    # backing off: the next scan leaves it alone unless asked
    result = runner.invoke(app, ["track", "run", "--once"])
    assert result.exit_code == 0 and "no tracking item to run" in result.output
    result = runner.invoke(app, ["track", "status", "--json"])
    (row,) = json.loads(result.output)
    assert row["last_outcome"] == "failed" and row["consecutive_failures"] == 1
    assert row["backoff_until"] != "-" and "scm_repo" in row["last_error"]
    result = runner.invoke(app, ["track", "status"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "failed" in result.output and "o/n master" in result.output


def test_public_names_resolve() -> None:
    for name in repotrack.tracking.__all__:
        assert getattr(repotrack.tracking, name) is not None
    assert sorted(repotrack.tracking.__all__) == repotrack.tracking.__all__
