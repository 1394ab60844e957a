"""The ``repotrack`` command: a root Typer app that mounts one sub-app per area.

Each area's commands live in their own module; importing them must stay cheap
(heavy imports such as FastAPI or chdb happen inside the command functions), so that
``repotrack --help`` is instant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from repotrack import __version__
from repotrack.cli import config_cmd
from repotrack.cli.common import AppState, guarded

app = typer.Typer(
    name="repotrack",
    help="Upstream patch tracking and distribution data for RPM-based distributions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(config_cmd.app, name="config")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"repotrack {__version__}")
        raise typer.Exit()


@app.callback()
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


def _mount_optional() -> None:
    """Mount the areas' sub-apps; each module registers itself through ``register(app)``."""
    import importlib

    for name in _AREAS:
        module = importlib.import_module(f"repotrack.cli.{name}")
        module.register(app)


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

_mount_optional()


def main() -> None:
    guarded(app)()
