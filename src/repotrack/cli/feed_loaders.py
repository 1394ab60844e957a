"""ALTRepo's feed commands on repotrack's loaders: ``acl_loader``, ``beehive_loader``,
``bugzilla_loader``, ``repocop_loader``, ``watch_loader``, ``spdx_loader``.

    acl_loader [url] [-c config.ini] [-d DB] [-s HOST] [-p PORT] [-u USER] [-P PASSWORD] [-D]

The others take the same options (``spdx_loader`` takes ``-g/--git-root DIR``
instead of ``url``); ``url`` replaces the default (or configured)
feed URL and may be a local file or directory. Where the data goes follows
``repo_loader``: ``-c``/``-d/-s/-p/-u/-P`` name a ClickHouse server, otherwise
repotrack's own store. One summary line; errors as one line with a non-zero status.
"""

from __future__ import annotations

import argparse
import os
import sys

from repotrack.errors import RepotrackError

__all__ = [
    "acl_main",
    "beehive_main",
    "bugzilla_main",
    "build_parser",
    "repocop_main",
    "spdx_main",
    "watch_main",
]


def build_parser(feed: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{feed}_loader", description=f"Load the {feed} feed into the analytics store."
    )
    if feed == "spdx":
        parser.add_argument("-g", "--git-root", help="license-list-data clone (default ~/SPDX)")
    else:
        parser.add_argument("url", nargs="?", help="feed URL or local path (default: configured)")
    parser.add_argument("-c", "--config", help="ALTRepo config.ini")
    parser.add_argument("-d", "--dbname", help="database name")
    parser.add_argument("-s", "--host", help="database host")
    parser.add_argument("-p", "--port", type=int, help="database port")
    parser.add_argument("-u", "--user", help="database user")
    parser.add_argument("-P", "--password", help="database password")
    parser.add_argument("-D", "--debug", action="store_true", help="debug logging")
    return parser


def _main(feed: str, argv: list[str] | None) -> None:
    from pathlib import Path

    args = build_parser(feed).parse_args(argv)
    if args.config is not None:
        args.config = Path(args.config)
    os.environ["LANG"] = "C"
    try:
        _run(feed, args)
    except RepotrackError as exc:
        from repotrack.cli.common import error_line

        print(error_line(exc), file=sys.stderr)
        sys.exit(exc.exit_code)
    sys.exit(0)


def _run(feed: str, args: argparse.Namespace) -> None:
    from repotrack.cli.load_feeds import print_result, run_feed_locally
    from repotrack.cli.repo_loader import store_url_from_args
    from repotrack.config import load_settings
    from repotrack.ingest.feeds import FeedRequest

    settings = load_settings()
    store_url = store_url_from_args(args) or settings.store_url
    if feed == "spdx":
        options = {"git_root": args.git_root} if args.git_root else {}
        request = FeedRequest(feed, options=options)
    else:
        request = FeedRequest(feed, location=args.url)
    print_result(run_feed_locally(settings, store_url, request))


def acl_main(argv: list[str] | None = None) -> None:
    _main("acl", argv)


def beehive_main(argv: list[str] | None = None) -> None:
    _main("beehive", argv)


def bugzilla_main(argv: list[str] | None = None) -> None:
    _main("bugzilla", argv)


def repocop_main(argv: list[str] | None = None) -> None:
    _main("repocop", argv)


def watch_main(argv: list[str] | None = None) -> None:
    _main("watch", argv)


def spdx_main(argv: list[str] | None = None) -> None:
    _main("spdx", argv)
