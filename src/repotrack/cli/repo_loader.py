"""``repo_loader``: ALTRepo's command, same arguments, on repotrack's loader.

    repo_loader <pkgset> <path> [-t TAG] [-c config.ini] [-d DB] [-s HOST] [-p PORT]
                [-u USER] [-P PASSWORD] [-w N] [-D] [-v] [-A YYYY-MM-DD] [-F]
                [--via-service]

Where the data goes: with ``-c`` (ALTRepo's ``config.ini``, ``[DATABASE]`` section)
or any of ``-d/-s/-p/-u/-P``, a ClickHouse server over HTTP (clickhouse-connect);
command-line flags win over the file. Otherwise repotrack's own store (its settings,
by default the embedded chDB store); while ``repotrack serve`` holds that store, the
load is handed to the service when ``$REPOTRACK_PASSWORD`` (and ``$REPOTRACK_USER``)
give its account, and ``--via-service`` always hands it over (``-u/-P`` are the
database's account, as in the original, so the service's comes from the environment).
Differences from the original, all deliberate:
``--date`` is required (the original crashed without it), errors exit non-zero, and
the native-protocol port 9000 of old configs is taken to mean the same server's HTTP
port 8123.
"""

from __future__ import annotations

import argparse
import configparser
import logging
import os
import sys
from pathlib import Path
from urllib.parse import quote

from repotrack.errors import ConfigError, RepotrackError

__all__ = ["build_parser", "main", "store_url_from_args"]

NATIVE_PORT = 9000
HTTP_PORT = 8123
DEFAULT_WORKERS = 10


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="repo_loader", description="Load a repository snapshot into the analytics store."
    )
    parser.add_argument("pkgset", help="package set (branch) name; lowercased")
    parser.add_argument("path", type=Path, help="snapshot directory")
    parser.add_argument("-t", "--tag", default="", help="stored in pkgset_tag")
    parser.add_argument("-c", "--config", type=Path, help="ALTRepo config.ini")
    parser.add_argument("-d", "--dbname", help="database name")
    parser.add_argument("-s", "--host", help="database host")
    parser.add_argument("-p", "--port", type=int, help="database port")
    parser.add_argument("-u", "--user", help="database user")
    parser.add_argument("-P", "--password", help="database password")
    parser.add_argument("-w", "--workers", type=int, help="worker processes (default 10)")
    parser.add_argument("-D", "--debug", action="store_true", help="debug logging")
    parser.add_argument("-v", "--verbose", action="store_true", help="progress every 1000")
    parser.add_argument("-A", "--date", help="snapshot date YYYY-MM-DD (required)")
    parser.add_argument("-F", "--force", action="store_true", help="reload an existing date")
    parser.add_argument(
        "--skip-bad",
        action="store_true",
        help="leave damaged packages out and list them instead of failing (repotrack)",
    )
    parser.add_argument(
        "--verify-known",
        action="store_true",
        help="re-read packages already stored and check them (repotrack)",
    )
    parser.add_argument(
        "--via-service",
        action="store_true",
        help="hand the load to the running repotrack service (account from "
        "$REPOTRACK_USER/$REPOTRACK_PASSWORD)",
    )
    return parser


def _read_config(path: Path) -> configparser.ConfigParser:
    config = configparser.ConfigParser(interpolation=None)
    try:
        with path.open(encoding="utf-8") as f:
            config.read_file(f)
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        raise ConfigError(f"cannot read: {exc}", source=str(path)) from exc
    return config


def store_url_from_args(args: argparse.Namespace) -> str | None:
    """A ``clickhouse://`` URL from ``-c``/``-d/-s/-p/-u/-P``, or None for repotrack's store."""
    direct = (args.dbname, args.host, args.port, args.user, args.password)
    if args.config is None and all(v is None for v in direct):
        return None
    section: dict[str, str] = {}
    if args.config is not None:
        config = _read_config(args.config)
        if config.has_section("DATABASE"):
            section = dict(config.items("DATABASE"))
    dbname = args.dbname or section.get("dbname") or "default"
    host = args.host or section.get("host") or "localhost"
    port = args.port or _port(section.get("port"), args.config)
    user = args.user or section.get("user") or "default"
    password = args.password if args.password is not None else section.get("password", "")
    if port in (None, NATIVE_PORT):
        port = HTTP_PORT
    auth = quote(user, safe="")
    if password:
        auth += ":" + quote(password, safe="")
    return f"clickhouse://{auth}@{host}:{port}/{quote(dbname, safe='')}"


def _port(value: str | None, source: Path | None) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"not a number: {value!r}", source=str(source), key="port") from None


def _workers(args: argparse.Namespace) -> int:
    if args.workers is not None:
        return int(args.workers)
    if args.config is not None:
        config = _read_config(args.config)
        # As in the original: looked up in [DATABASE], which inherits [DEFAULT].
        if config.has_section("DATABASE"):
            value = config.get("DATABASE", "workers", fallback=None)
        else:
            value = config.defaults().get("workers")
        if value:
            try:
                return int(value)
            except ValueError:
                raise ConfigError(
                    f"not a number: {value!r}", source=str(args.config), key="workers"
                ) from None
    return DEFAULT_WORKERS


def _setup_logging(*, debug: bool) -> None:
    """The original's console format; without ``-D`` only repotrack's own records.

    The HTTP client logs every retry at WARNING; the one error line printed at the
    end says what failed, so those records are dropped unless debugging.
    """
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s: %(message)s"))
    if not debug:
        handler.addFilter(logging.Filter("repotrack"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.WARNING)


def main(argv: list[str] | None = None) -> None:
    """The console script: a last-resort guard keeps any error to one line."""
    from repotrack.cli.common import guarded

    guarded(lambda: _main(argv))()


def _main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    os.environ["LANG"] = "C"
    _setup_logging(debug=args.debug)
    from repotrack.cli.load import EXIT_INTERRUPTED

    try:
        sys.exit(_run(args))
    except RepotrackError as exc:
        from repotrack.cli.common import error_line

        print(error_line(exc), file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt as exc:
        from repotrack.cli.load import interrupted_message

        print(interrupted_message(exc), file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)


#: How a user whose load met the service's store hands it over.
HANDOFF_HINT = (
    "to hand the load to the service, set REPOTRACK_PASSWORD (and REPOTRACK_USER unless "
    "it is service.user), or pass --via-service"
)


def _run(args: argparse.Namespace) -> int:
    from repotrack.cli.load import parse_date, run_repo_load
    from repotrack.cli.load_remote import HandOff, ServiceOptions
    from repotrack.config import load_settings
    from repotrack.errors import InputError

    if not args.date:
        raise InputError("is required (YYYY-MM-DD)", field="--date")
    store_url = store_url_from_args(args)
    handoff = None
    if store_url is None:
        settings = load_settings()
        store_url = settings.store_url
        handoff = HandOff(settings, ServiceOptions(), always=args.via_service, hint=HANDOFF_HINT)
    elif args.via_service:
        raise InputError(
            "hands the load to repotrack's service; it does not mix with -c/-d/-s/-p/-u/-P",
            field="--via-service",
        )
    run_repo_load(
        store_url=store_url,
        branch=args.pkgset,
        path=args.path,
        day=parse_date(args.date),
        tag=args.tag,
        force=args.force,
        workers=_workers(args),
        skip_bad=args.skip_bad,
        verify_known=args.verify_known,
        verbose=args.verbose,
        handoff=handoff,
    )
    return 0
