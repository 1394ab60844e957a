"""The root command mounts areas lazily: its table must say what the mounted app has."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.core import TyperGroup

from repotrack.cli import main


def _tree(command: Any) -> dict[str, Any]:
    """Names, parameters and help of a command and all of its subcommands."""
    node: dict[str, Any] = {
        "help": command.help,
        "params": [[p.name, list(getattr(p, "opts", []))] for p in command.params],
    }
    if isinstance(command, TyperGroup):
        names = command.list_commands(None)  # type: ignore[arg-type]
        node["order"] = names
        node["commands"] = {n: _tree(command.get_command(None, n)) for n in names}  # type: ignore[arg-type]
    return node


def _full_root() -> TyperGroup:
    root = typer.main.get_command(main.app)
    assert isinstance(root, TyperGroup)
    return root


def test_the_table_lists_the_mounted_commands_in_help_order() -> None:
    root = _full_root()
    assert list(root.commands) == list(main.COMMANDS)
    for name, (help_line, _areas) in main.COMMANDS.items():
        assert (root.commands[name].help or "").split("\n\n")[0].strip() == help_line


def test_every_area_is_named_by_some_command() -> None:
    named = {area for _help, areas in main.COMMANDS.values() for area in areas}
    assert named == set(main._AREAS)


def _help(mount_all: bool) -> str:
    code = "from repotrack.cli import main\n"
    code += "main.app\n" if mount_all else ""
    code += "main.run(['--help'], 'repotrack')\n"
    child = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"COLUMNS": "100", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert child.returncode == 0, child.stderr
    return child.stdout


def test_root_help_is_the_same_lazily_and_mounted() -> None:
    """The listing from the table reads exactly as the listing of the real commands."""
    assert _help(mount_all=False) == _help(mount_all=True)


_TREE_CHILD = """
import json, sys
import typer.main
from repotrack.cli import main
from tests.unit.cli.test_lazy_root import _tree
root = typer.main.get_command(main._root)
command = root.get_command(None, sys.argv[1])
sys.stdout.write(json.dumps(_tree(command)))
"""


@pytest.mark.parametrize("name", list(main.COMMANDS))
def test_a_command_mounted_alone_is_the_command_of_the_full_app(name: str) -> None:
    """In a fresh process, mounting only the areas the table names builds the same
    command (every subcommand, parameter and help text) as mounting everything."""
    child = subprocess.run(
        [sys.executable, "-c", _TREE_CHILD, name],
        cwd=Path(__file__).resolve().parents[3],
        capture_output=True,
        text=True,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    assert json.loads(child.stdout) == json.loads(json.dumps(_tree(_full_root().commands[name])))
