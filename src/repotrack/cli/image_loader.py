"""``image_loader`` and ``iso_loader``: ALTRepo's commands, same options, on repotrack's loader.

    image_loader PATH --edition E --version V --release R --platform P --variant V
                 --type tar|img|qcow --flavor F --arch A --branch B --date YYYY-MM-DD
                 --url URL [-c config.ini] [-d DB] [-s HOST] [-p PORT] [-u USER]
                 [-P PASSWORD] [-D] [-F] [-t]
    iso_loader   the same without --type (and --flavor must be '')

Every option the originals require is required here too, with their value checks
and messages. Where the data goes follows ``repo_loader``: ``-c``/``-d/-s/-p/-u/-P``
mean a ClickHouse server, otherwise repotrack's own store, handed to the running
service as ``repo_loader`` does (``$REPOTRACK_PASSWORD``, or ``--via-service``).
Differences from the
originals, all deliberate: nothing is mounted (no root, FUSE or libguestfs), the
image's own os-release is read (the original read the host's for img/qcow), and
errors print one line and exit non-zero (2 for bad input).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from repotrack.errors import RepotrackError

__all__ = ["build_parser", "iso_main", "main"]


def build_parser(*, iso: bool) -> argparse.ArgumentParser:
    from repotrack.ingest.image_meta import (
        ARCHS,
        EDITIONS,
        IMAGE_TYPES,
        ISO_EDITIONS,
        ISO_PLATFORMS,
        PLATFORMS,
        RELEASES,
        VARIANTS,
    )

    what = "ISO image" if iso else "Filesystem image"
    parser = argparse.ArgumentParser(
        prog="iso_loader" if iso else "image_loader",
        description=f"Load {what.lower()} structure to database",
    )
    parser.add_argument("path", type=Path, help=f"Path to {what.lower()} file")
    parser.add_argument(
        "--edition", required=True, choices=ISO_EDITIONS if iso else EDITIONS, help="edition"
    )
    parser.add_argument("--version", required=True, help="version (e.g. 9.2, 8.1.3, 20211205)")
    parser.add_argument("--release", required=True, choices=RELEASES, help="release type")
    parser.add_argument(
        "--platform", required=True, choices=ISO_PLATFORMS if iso else PLATFORMS, help="platform"
    )
    parser.add_argument("--variant", required=True, choices=VARIANTS, help="variant")
    if not iso:
        parser.add_argument("--type", required=True, choices=IMAGE_TYPES, help="image type")
    parser.add_argument("--flavor", required=True, help="flavor ('' for ISO)")
    parser.add_argument("--arch", required=True, choices=ARCHS, help="arch")
    parser.add_argument("--branch", required=True, help="base branch name")
    parser.add_argument("--date", required=True, help="image date [YYYY-MM-DD]")
    parser.add_argument("--url", required=True, help="image download URL")
    parser.add_argument("-c", "--config", type=Path, help="ALTRepo config.ini")
    parser.add_argument("-d", "--dbname", help="database name")
    parser.add_argument("-s", "--host", help="database host")
    parser.add_argument("-p", "--port", type=int, help="database port")
    parser.add_argument("-u", "--user", help="database login")
    parser.add_argument("-P", "--password", help="database password")
    parser.add_argument("-D", "--debug", action="store_true", help="debug logging")
    parser.add_argument("-F", "--force", action="store_true", help="load despite checks")
    parser.add_argument("-t", "--dry-run", action="store_true", help="do not load to database")
    parser.add_argument(
        "--via-service",
        action="store_true",
        help="hand the load to the running repotrack service (account from "
        "$REPOTRACK_USER/$REPOTRACK_PASSWORD)",
    )
    return parser


def _run(args: argparse.Namespace, *, iso: bool) -> int:
    from repotrack.cli.images import run_image_load
    from repotrack.cli.load_remote import HandOff, ServiceOptions
    from repotrack.cli.repo_loader import HANDOFF_HINT, store_url_from_args
    from repotrack.config import load_settings
    from repotrack.errors import InputError
    from repotrack.ingest.image_meta import ImageMeta

    meta = ImageMeta.build(
        file=args.path.name,
        edition=args.edition,
        version=args.version,
        release=args.release,
        platform=args.platform,
        variant=args.variant,
        flavor=args.flavor,
        arch=args.arch,
        branch=args.branch,
        date=args.date,
        url=args.url,
        image_type="iso" if iso else args.type,
    )
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
    run_image_load(
        store_url=store_url,
        path=args.path,
        meta=meta,
        force=args.force,
        dry_run=args.dry_run,
        handoff=handoff,
    )
    return 0


def _main(argv: list[str] | None, *, iso: bool) -> None:
    args = build_parser(iso=iso).parse_args(argv)
    os.environ["LANG"] = "C"
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s: %(message)s"))
    if not args.debug:
        handler.addFilter(logging.Filter("repotrack"))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.DEBUG if args.debug else logging.WARNING)
    try:
        sys.exit(_run(args, iso=iso))
    except RepotrackError as exc:
        from repotrack.cli.common import error_line

        print(error_line(exc), file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt as exc:
        from repotrack.cli.load import EXIT_INTERRUPTED, interrupted_message

        print(interrupted_message(exc), file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)


def main(argv: list[str] | None = None) -> None:
    """``image_loader``."""
    _main(argv, iso=False)


def iso_main(argv: list[str] | None = None) -> None:
    """``iso_loader``."""
    _main(argv, iso=True)
