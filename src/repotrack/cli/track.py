"""``repotrack track add|query|delete``: the Typer face of the tracking client.

Same options and messages as ``patch-tracking-cli`` (both call ``track_core``), with
hyphenated spellings accepted too (``--scm-repo`` for ``--scm_repo``) and ``--json``
for ``query``. ``track_app`` is public so that ``run`` and ``status`` (in
``cli/track_engine.py``) attach to the same group. Heavy imports (httpx, yaml) happen
inside the commands so that ``repotrack --help`` stays instant.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from repotrack.cli.common import get_settings

__all__ = ["register", "track_app"]

track_app = typer.Typer(
    help="Tracking items on a patch-tracking server: add, query, delete.",
    no_args_is_help=True,
)


class VersionControl(StrEnum):
    github = "github"
    git = "git"


class EnabledWord(StrEnum):
    """The spellings the original accepted for ``--enabled``."""

    true_title = "True"
    true = "true"
    false_title = "False"
    false = "false"


class Table(StrEnum):
    tracking = "tracking"
    issue = "issue"


Server = Annotated[
    str | None,
    typer.Option(
        "--server",
        envvar="REPOTRACK_SERVER",
        help="host:port (https assumed) or a full URL (default: the configured service).",
    ),
]
CaCert = Annotated[
    Path | None,
    typer.Option("--cacert", envvar="REPOTRACK_CACERT", help="PEM file of CA certificates."),
]
Insecure = Annotated[
    bool, typer.Option("--insecure", help="Do not verify the server's TLS certificate (unsafe).")
]
User = Annotated[
    str | None, typer.Option("--user", envvar="REPOTRACK_USER", help="Server account name.")
]
Password = Annotated[
    str | None,
    typer.Option(
        "--password",
        help="Account password; default $REPOTRACK_PASSWORD, else a prompt on a terminal.",
    ),
]
Repo = Annotated[str | None, typer.Option("--repo", help="Downstream repository URL.")]
Branch = Annotated[str | None, typer.Option("--branch", help="Downstream branch.")]


def _where(
    ctx: typer.Context, server: str | None, cacert: Path | None, insecure: bool
) -> tuple[str, Path | None]:
    """The server and CA file to use: as given, else this machine's configured service
    (``service.listen``; its own certificate trusted when it has one)."""
    if server:
        return server, cacert
    from repotrack.cli.common import error_line
    from repotrack.cli.load_remote import service_url
    from repotrack.errors import RepotrackError

    try:
        settings = get_settings(ctx)
    except RepotrackError as exc:
        typer.echo(error_line(exc), err=True)
        raise typer.Exit(exc.exit_code) from exc
    certfile = settings.service.certfile
    if cacert is None and not insecure and certfile is not None and certfile.is_file():
        cacert = certfile
    return service_url(settings), cacert


def _finish(ctx: typer.Context, call: Callable[[], int]) -> None:
    """Run a core function; a UsageError is shown with the usage line (exit 2)."""
    from repotrack.cli.track_core import UsageError

    try:
        code = call()
    except UsageError as exc:
        typer.echo(ctx.get_usage(), err=True)
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(2) from exc
    raise typer.Exit(code)


@track_app.command("add")
def add(
    ctx: typer.Context,
    server: Server = None,
    user: User = None,
    password: Password = None,
    version_control: Annotated[
        VersionControl | None,
        typer.Option("--version_control", "--version-control", help="Upstream type."),
    ] = None,
    scm_repo: Annotated[
        str | None,
        typer.Option("--scm_repo", "--scm-repo", help="Upstream: owner/name (github) or URL."),
    ] = None,
    scm_branch: Annotated[
        str | None, typer.Option("--scm_branch", "--scm-branch", help="Upstream branch.")
    ] = None,
    scm_commit: Annotated[
        str | None,
        typer.Option("--scm_commit", "--scm-commit", help="Upstream commit to start after."),
    ] = None,
    repo: Repo = None,
    branch: Branch = None,
    enabled: Annotated[
        EnabledWord | None, typer.Option("--enabled", help="Whether tracking is on.")
    ] = None,
    file: Annotated[Path | None, typer.Option("--file", help="YAML file of items.")] = None,
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Directory of YAML files (not recursive).")
    ] = None,
    no_check: Annotated[
        bool, typer.Option("--no-check", help="Skip the git ls-remote branch checks.")
    ] = False,
    cacert: CaCert = None,
    insecure: Insecure = False,
) -> None:
    """Add or update tracking items (upsert on repo + branch).

    Give the fields as options, or --file with one YAML file, or --dir with a
    directory of them; the three styles do not mix.
    """
    from repotrack.cli.track_core import Connection, run_add

    server, cacert = _where(ctx, server, cacert, insecure)
    conn = Connection(server, user=user, password=password, cacert=cacert, insecure=insecure)
    direct = {
        "version_control": version_control.value if version_control else None,
        "scm_repo": scm_repo,
        "scm_branch": scm_branch,
        "scm_commit": scm_commit,
        "repo": repo,
        "branch": branch,
        "enabled": enabled.value if enabled else None,
    }
    _finish(
        ctx,
        lambda: run_add(conn, direct=direct, file=file, directory=directory, check=not no_check),
    )


@track_app.command("query")
def query(
    ctx: typer.Context,
    server: Server = None,
    table: Annotated[Table, typer.Option("--table", help="What to list.")] = Table.tracking,
    repo: Repo = None,
    branch: Branch = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")] = False,
    cacert: CaCert = None,
    insecure: Insecure = False,
) -> None:
    """List tracking items or issues, optionally filtered by repo and branch."""
    from repotrack.cli.track_core import Connection, run_query

    server, cacert = _where(ctx, server, cacert, insecure)
    conn = Connection(server, cacert=cacert, insecure=insecure)
    _finish(
        ctx,
        lambda: run_query(conn, table=table.value, repo=repo, branch=branch, as_json=as_json),
    )


@track_app.command("delete")
def delete(
    ctx: typer.Context,
    repo: Annotated[str, typer.Option("--repo", help="Downstream repository URL.")],
    server: Server = None,
    branch: Annotated[
        str | None, typer.Option("--branch", help="Downstream branch; all when left out.")
    ] = None,
    user: User = None,
    password: Password = None,
    cacert: CaCert = None,
    insecure: Insecure = False,
) -> None:
    """Delete one tracking item, or every item of a repository when --branch is left out."""
    from repotrack.cli.track_core import Connection, run_delete

    server, cacert = _where(ctx, server, cacert, insecure)
    conn = Connection(server, user=user, password=password, cacert=cacert, insecure=insecure)
    _finish(ctx, lambda: run_delete(conn, repo=repo, branch=branch))


def register(app: typer.Typer) -> None:
    app.add_typer(track_app, name="track")
