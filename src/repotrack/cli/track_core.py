"""What ``repotrack track add|query|delete`` and ``patch-tracking-cli`` both do.

Both faces parse their own arguments and then call ``run_add``, ``run_delete`` or
``run_query``, which print the original CLI's messages (reference §4.1-§4.3) and
return the exit status: 0 success, 1 failure (server, network, a failed item), 2 bad
usage or bad input. A problem the face's parser should show with its usage text is
raised as ``UsageError``.

Order of checks for ``add``, kept from the original where it matters: password length
(when the password is known), then mixing of input styles, then presence of the
required fields, then value checks, then the server probe, then the upstream and
downstream branch checks, then the POST.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from repotrack.errors import InputError, UpstreamError
from repotrack.tracking.item_files import (
    REQUIRED_FIELDS,
    YAML_SUFFIXES,
    TrackingItem,
    item_from_mapping,
    load_dir,
    load_file,
)

if TYPE_CHECKING:
    from rich.text import Text

    from repotrack.cli.tracking_client import TrackingClient

__all__ = [
    "PASSWORD_ENV",
    "Connection",
    "UsageError",
    "run_add",
    "run_delete",
    "run_query",
]

PASSWORD_ENV = "REPOTRACK_PASSWORD"  # noqa: S105 - a variable name, not a secret
OK, FAILED, BAD_INPUT = 0, 1, 2
# Own consoles rather than cli.common's: common imports the settings machinery
# (pydantic), which would double the start-up time of patch-tracking-cli.
console = Console()
err_console = Console(stderr=True)
_PIPE_WIDTH = 4096
_COLUMNS = {
    "tracking": ("version_control", "scm_repo", "scm_branch", "scm_commit", "repo", "branch"),
    "issue": ("issue", "repo", "branch"),
}


class UsageError(Exception):
    """Bad command-line usage; the face prints it with its usage text and exits 2."""


@dataclass
class Connection:
    """Where the server is and how to authenticate; the password is resolved lazily."""

    server: str
    user: str | None = None
    password: str | None = None
    cacert: Path | None = None
    insecure: bool = False

    def base_url(self) -> str:
        from repotrack.cli.tracking_client import server_base_url

        return server_base_url(self.server)


@dataclass
class _Source:
    """One unit of reporting: the direct item, a --file, or one --dir entry."""

    items: Sequence[TrackingItem]
    path: Path | None = None
    error: InputError | None = None
    failures: list[str] = field(default_factory=list)


def say(message: str) -> None:
    console.print(message, markup=False, highlight=False, soft_wrap=True)


def warn(message: str) -> None:
    err_console.print(message, markup=False, highlight=False, soft_wrap=True)


# --------------------------------------------------------------------------- add


def run_add(
    conn: Connection,
    *,
    direct: Mapping[str, str | None],
    file: Path | None,
    directory: Path | None,
    check: bool,
) -> int:
    """Create or update tracking items from options, one YAML file, or a directory."""
    password = _known_password(conn)
    if password is not None and not _password_length_ok(password):
        return BAD_INPUT
    sources = _add_sources(conn, direct=direct, file=file, directory=directory)
    if isinstance(sources, int):
        return sources
    password = _need_password(conn)
    if password is None or not _password_length_ok(password) or not _latin1_ok(conn, password):
        return BAD_INPUT
    client = _client(conn, password)
    if client is None:
        return BAD_INPUT
    with client:
        if not _probe(client):
            return FAILED
        return _post_sources(
            client, sources, check=check, direct=file is None and directory is None
        )


def _add_sources(
    conn: Connection,
    *,
    direct: Mapping[str, str | None],
    file: Path | None,
    directory: Path | None,
) -> list[_Source] | int:
    given = {k: v for k, v in direct.items() if v is not None and k != "scm_commit"}
    styles = [bool(given), file is not None, directory is not None]
    if sum(styles) > 1:
        raise UsageError("mix different usage style")
    if (file is not None or directory is not None) and direct.get("scm_commit") is not None:
        raise UsageError(
            "--scm_commit cannot be combined with --file or --dir; "
            "put scm_commit into the YAML file instead"
        )
    if not conn.user:
        raise UsageError("the following arguments are required: --user")
    if file is not None:
        return _file_source(file)
    if directory is not None:
        return _dir_sources(directory)
    return _direct_source(direct)


def _direct_source(direct: Mapping[str, str | None]) -> list[_Source] | int:
    missing = [f"--{name}" for name in REQUIRED_FIELDS if not direct.get(name)]
    if missing:
        raise UsageError(f"the following arguments are required: {', '.join(missing)}")
    try:
        item = item_from_mapping({k: v for k, v in direct.items() if v is not None})
    except InputError as exc:
        warn(f"Error: {exc}")
        return BAD_INPUT
    return [_Source(items=[item])]


def _file_source(path: Path) -> list[_Source] | int:
    if not path.exists():
        warn(f"yaml path error. Params error in {path}")
        return BAD_INPUT
    if not path.is_file() or path.suffix not in YAML_SUFFIXES:
        warn(f"Please input yaml file. Error in {path}")
        return BAD_INPUT
    try:
        return [_Source(items=load_file(path), path=path)]
    except InputError as exc:
        warn(f"Tracking failed for {path}: {_detail(exc, path)}")
        return BAD_INPUT


def _dir_sources(path: Path) -> list[_Source] | int:
    if not path.is_dir():
        warn(f"error: dir path error. Params error in {path}")
        return BAD_INPUT
    try:
        entries = load_dir(path)
    except InputError:
        warn("error: dir path empty")
        return BAD_INPUT
    return [_Source(items=e.items, path=e.path, error=e.error) for e in entries]


def _detail(exc: InputError, path: Path) -> str:
    """The error text without the file name the caller already printed."""
    text = str(exc)
    prefix = str(path)
    if text.startswith(prefix):
        text = text[len(prefix) :].lstrip(",: ")
    return text


def _post_sources(
    client: TrackingClient, sources: list[_Source], *, check: bool, direct: bool
) -> int:
    status = OK
    for source in sources:
        if source.error is not None:
            _report_bad_entry(source)
            status = FAILED
            continue
        outcome = _post_items(client, source, check=check)
        if outcome == "auth":
            return FAILED
        if outcome == "down":
            return FAILED
        if source.failures:
            status = FAILED
            if direct:
                for line in source.failures:
                    warn(line)
            else:
                warn(f"Tracking failed for {source.path}: {'; '.join(source.failures)}")
        else:
            say(
                "Tracking successfully."
                if direct
                else f"Tracking successfully created for {source.path}"
            )
    return status


def _report_bad_entry(source: _Source) -> None:
    assert source.path is not None and source.error is not None
    if source.path.is_file() and source.path.suffix in YAML_SUFFIXES:
        warn(f"Tracking failed for {source.path}: {_detail(source.error, source.path)}")
    else:
        warn(f"Please input yaml file. Error in {source.path.name}")


def _post_items(client: TrackingClient, source: _Source, *, check: bool) -> str:
    """POST each item of a source; failures land in ``source.failures``."""
    for item in source.items:
        if check:
            failure = _check_remotes(item)
            if failure:
                source.failures.append(failure)
                continue
        try:
            reply = client.add(item)
        except UpstreamError as exc:
            _report_unreachable(client.base_url, exc)
            return "down"
        if reply.unauthorized:
            warn("Authenticate Error. Please make sure user and password are correct.")
            return "auth"
        if not reply.ok:
            source.failures.append(f"status_code: {reply.status}, return text: {reply.text}")
            if source.path is None:
                source.failures.append("Unexpected Error.")
    return "done"


def _check_remotes(item: TrackingItem) -> str | None:
    from repotrack.cli.remote_check import check_branch

    for url, branch in ((item.upstream_url, item.scm_branch), (item.repo, item.branch)):
        result = check_branch(url, branch)
        if not result.ok:
            return str(result)
    return None


# ------------------------------------------------------------------------ delete


def run_delete(conn: Connection, *, repo: str, branch: str | None) -> int:
    """Delete one item (``repo`` + ``branch``) or every item of ``repo``."""
    password = _known_password(conn)
    if password is not None and not _password_length_ok(password):
        return BAD_INPUT
    if not conn.user:
        raise UsageError("the following arguments are required: --user")
    password = _need_password(conn)
    if password is None or not _password_length_ok(password) or not _latin1_ok(conn, password):
        return BAD_INPUT
    client = _client(conn, password)
    if client is None:
        return BAD_INPUT
    with client:
        try:
            reply = client.delete(repo=repo, branch=branch)
        except UpstreamError as exc:
            warn(f"Connect server error: {_reason(exc)}")
            return FAILED
    if reply.ok:
        say("Tracking delete successfully.")
        return OK
    if reply.status == 200 and reply.code == "6005":
        warn("Delete Nothing. Tracking not exist.")
    else:
        warn(f"Tracking delete failed. Error: {reply.text}")
    return FAILED


# ------------------------------------------------------------------------- query


def run_query(
    conn: Connection,
    *,
    table: str,
    repo: str | None,
    branch: str | None,
    as_json: bool = False,
) -> int:
    """Print the ``tracking`` or ``issue`` rows matching ``repo``/``branch``."""
    client = _client(conn, None)
    if client is None:
        return BAD_INPUT
    with client:
        try:
            reply = client.query(table, repo=repo, branch=branch)
        except UpstreamError as exc:
            warn(f"Connect server error: {_reason(exc)}")
            return FAILED
    if not reply.ok or not isinstance(reply.data, list):
        warn(f"Query failed. status_code: {reply.status}, return text: {reply.text}")
        return FAILED
    if as_json:
        sys.stdout.write(json.dumps(reply.data, indent=2) + "\n")
    else:
        _print_table(table, reply.data)
    return OK


def _print_table(table: str, rows: list[Any]) -> None:
    from rich.table import Table

    columns = list(_COLUMNS[table])
    if table == "tracking":
        columns.append("enabled")
    for row in rows:
        columns.extend(k for k in (row if isinstance(row, dict) else {}) if k not in columns)
    grid = Table(show_lines=False)
    grid.add_column("", justify="right")
    for name in columns:
        grid.add_column(name, overflow="fold")
    for number, row in enumerate(rows, start=1):
        values = row if isinstance(row, dict) else {}
        grid.add_row(str(number), *(_cell(values.get(name)) for name in columns))
    # Off a terminal (a pipe, a log), print full values like the original's unlimited
    # pandas width instead of folding them at 80 columns.
    out = console if console.is_terminal else Console(width=_PIPE_WIDTH)
    out.print(grid)
    if not rows:
        say(f"No {table} rows found.")


def _cell(value: Any) -> Text:
    """Cells as plain Text: a repository name must never be read as Rich markup."""
    from rich.text import Text

    return Text("" if value is None else str(value))


# ------------------------------------------------------------------- plumbing


def _known_password(conn: Connection) -> str | None:
    if conn.password is None:
        conn.password = os.environ.get(PASSWORD_ENV) or None
    return conn.password


def _need_password(conn: Connection) -> str | None:
    """The password from the option, ``$REPOTRACK_PASSWORD``, or a terminal prompt."""
    if _known_password(conn) is not None:
        return conn.password
    if not sys.stdin.isatty():
        warn(
            "Error: a password is required: pass --password, set "
            f"{PASSWORD_ENV}, or run in a terminal to be prompted"
        )
        return None
    conn.password = getpass.getpass("Password: ")
    return conn.password


def _password_length_ok(password: str) -> bool:
    if 6 <= len(password) <= 32:
        return True
    warn("PASSWORD: Password length must be between 6 and 32")
    return False


def _latin1_ok(conn: Connection, password: str) -> bool:
    for name, value in (("user", conn.user or ""), ("password", password)):
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            warn(f"Error: the {name} must be Latin-1 text (HTTP Basic auth)")
            return False
    return True


def _client(conn: Connection, password: str | None) -> TrackingClient | None:
    from repotrack.cli.tracking_client import TrackingClient, tls_verify

    try:
        base_url = conn.base_url()
        verify = tls_verify(cacert=conn.cacert, insecure=conn.insecure, url=base_url)
    except InputError as exc:
        warn(f"Error: {exc}")
        return None
    return TrackingClient(base_url, verify=verify, user=conn.user, password=password)


def _probe(client: TrackingClient) -> bool:
    try:
        reply = client.probe()
    except UpstreamError as exc:
        _report_unreachable(client.base_url, exc)
        return False
    if reply.status in (200, 404):
        return True
    warn(f"Unexpected Error: {reply.text}")
    return False


def _report_unreachable(base_url: str, exc: UpstreamError) -> None:
    warn(
        f"Error: Cannot connect to {base_url}, please make sure patch-tracking service is running."
    )
    warn(f"Reason: {_reason(exc)}")


def _reason(exc: UpstreamError) -> str:
    text = str(exc)
    if exc.url and text.startswith(exc.url):
        text = text[len(exc.url) :].lstrip(": ")
    return text
