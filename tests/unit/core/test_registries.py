"""The explicit registries: which CLI areas and API routers exist (a change here is deliberate)."""

from __future__ import annotations

from typer.testing import CliRunner

from repotrack.cli import main
from repotrack.service.routes import ROUTERS


def test_cli_areas_are_pinned() -> None:
    assert set(main._AREAS) == {
        "track",
        "track_engine",
        "generate_password",
        "serve",
        "load",
        "load_feeds",
        "db",
        "query",
        "query_feeds",
        "feeds",
        "images",
        "task_cmd",
        "vulns",
        "daemon_cmd",
    }


def test_routers_are_pinned() -> None:
    assert ROUTERS == (
        "compat",
        "items",
        "issues",
        "health",
        "packages",
        "loads",
        "feeds",
        "enrichment",
        "images",
        "tasks",
        "vulns",
        "daemon",
    )


def test_root_help_lists_every_command() -> None:
    result = CliRunner().invoke(main.app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for command in (
        "config",
        "serve",
        "gen-cert",
        "track",
        "hash-password",
        "load",
        "db",
        "query",
        "tasks",
        "daemon",
    ):
        assert command in result.output, command
