"""The ``repotrack`` command: a root Typer app that mounts one sub-app per area.

Each area's commands live in their own module, and the root mounts an area only when
a command of it runs: ``repotrack load repo`` imports and converts the ``load`` group
alone, and ``repotrack --help`` lists every command from the table below without
importing any area. Building every area's click commands costs about 0.1 s, which a
user would otherwise pay on every command (tests pin the table to the real commands).
Heavy imports such as FastAPI or chdb still happen inside the command functions.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from repotrack import __version__
from repotrack.cli import config_cmd
from repotrack.cli.common import AppState, guarded
from repotrack.cli.quick_params import QuickParse, with_quick_parse

# ``import httpx`` also imports httpx's own command line (click, Rich's syntax
# highlighting, Pygments): about 0.06 s of every command that talks HTTP, for a
# program no repotrack command runs. Marking it absent makes httpx define a stub.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

#: Modules under repotrack.cli that add commands to the root app (explicit, pinned by a test).
_AREAS: tuple[str, ...] = (
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
)

#: Every top-level command in the order ``--help`` lists it: its one-line help, and the
#: areas whose ``register`` builds it with all of its subcommands. A test checks this
#: table against the commands the fully mounted app has.
COMMANDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "hash-password": (
        "Print a password hash for [service] password_hash (the original's strength rules).",
        ("generate_password",),
    ),
    "serve": (
        "Serve the REST API (patch-tracking routes and /api/v1) and run the tracker.",
        ("serve",),
    ),
    "gen-cert": (
        "Make a self-signed certificate and key (key file mode 0600) for `repotrack serve`.",
        ("serve",),
    ),
    "fire": (
        "Publish one load request for the daemon (the original's repodb_amqpfire).",
        ("daemon_cmd",),
    ),
    "config": ("Show or import configuration.", ()),
    "track": (
        "Tracking items on a patch-tracking server: add, query, delete.",
        ("track", "track_engine"),
    ),
    "load": (
        "Load distribution data into the analytics store.",
        ("load", "load_feeds", "images", "task_cmd", "vulns"),
    ),
    "db": ("Create and upgrade the analytics store's schema.", ("db", "track_engine")),
    "query": (
        "Query package sets in the analytics store.",
        ("query", "query_feeds", "images", "task_cmd"),
    ),
    "feeds": ("Enrichment feeds: schedule and run history.", ("feeds",)),
    "tasks": ("Maintain the stored girar build tasks.", ("task_cmd",)),
    "vulns": ("Vulnerabilities: package mapping, matching, triage and queries.", ("vulns",)),
    "daemon": ("The AMQP daemon (uploaderd-compatible).", ("daemon_cmd",)),
}

_mounted: set[str] = set()


def _mount(areas: tuple[str, ...]) -> None:
    """Run each area's ``register`` once per process (it adds to shared sub-apps)."""
    for name in areas:
        if name not in _mounted:
            _mounted.add(name)
            importlib.import_module(f"repotrack.cli.{name}").register(_root)


class _LazyRoot(QuickParse, TyperGroup):
    """The root group: commands known by name, built when first asked for.

    While the root's own help is being written, a command not built yet is stood in
    for by its name and help line, so that listing the commands imports nothing.
    """

    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = self.commands.get(cmd_name)
        if command is not None or cmd_name not in COMMANDS:
            return command
        help_line, areas = COMMANDS[cmd_name]
        if self._listing:
            return TyperCommand(cmd_name, help=help_line)
        _mount(areas)
        self.commands[cmd_name] = with_quick_parse(_build(cmd_name))
        return self.commands[cmd_name]

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


class _LazyGroup(QuickParse, TyperGroup):
    """A sub-group (``load``, ``query``, ...) whose commands are built when first asked
    for: ``load task`` builds one command, not the fifteen of ``load``."""

    _pending: dict[str, Any]
    _order: list[str]

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self._order)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        info = self._pending.pop(cmd_name, None)
        if info is not None:
            import typer.main

            self.commands[cmd_name] = with_quick_parse(
                typer.main.get_command_from_info(
                    info,
                    pretty_exceptions_short=_root.pretty_exceptions_short,
                    rich_markup_mode=_root.rich_markup_mode,
                )
            )
        return self.commands.get(cmd_name)


def _build(name: str) -> Any:
    """The click command of a top-level command whose areas are mounted.

    A group is built without its own commands, which it builds one by one as they are
    asked for (the registration order is kept for help listings).
    """
    import typer.main

    group = next((g for g in _root.registered_groups if g.name == name), None)
    if group is None or group.typer_instance is None:
        built = typer.main.get_command(_root)
        assert isinstance(built, TyperGroup)
        return built.commands[name]
    sub = group.typer_instance
    infos = sub.registered_commands
    sub.registered_commands = []
    try:
        shell = typer.main.get_group_from_info(
            group,
            pretty_exceptions_short=_root.pretty_exceptions_short,
            suggest_commands=_root.suggest_commands,
            rich_markup_mode=_root.rich_markup_mode,
        )
    finally:
        sub.registered_commands = infos
    lazy = _LazyGroup.__new__(_LazyGroup)
    lazy.__dict__.update(shell.__dict__)
    pending = {}
    for info in infos:
        assert info.callback is not None
        pending[info.name or typer.main.get_command_name(info.callback.__name__)] = info
    lazy._pending = pending
    lazy._order = [*pending, *(n for n in lazy.commands if n not in pending)]
    return lazy


_root = typer.Typer(
    name="repotrack",
    help="Upstream patch tracking and distribution data for RPM-based distributions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain click help: Typer's Rich help imports Markdown, Pygments and tracebacks
    # (about 0.1 s on every `--help`), and plain text reads the same in a pipe.
    rich_markup_mode=None,
    cls=_LazyRoot,
)
_root.add_typer(config_cmd.app, name="config")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"repotrack {__version__}")
        raise typer.Exit()


@_root.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="Settings file (default: $REPOTRACK_CONFIG, ./repotrack.toml)."
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    ctx.obj = AppState(config=config, debug=debug)


def __getattr__(name: str) -> Any:
    """``app``: the root with every area mounted (for tests and embedding)."""
    if name == "app":
        _mount(_AREAS)
        return _root
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def run(args: list[str], prog_name: str | None = None) -> None:
    """Run the command line ``args``, mounting only the area that the command needs."""
    _root(args, prog_name=prog_name)


def main() -> None:
    guarded(_root)()
