"""``patch-tracking-cli``: the original client's command line, over repotrack's core.

argparse with ``prog='patch_tracking_cli'`` and ``allow_abbrev=False`` on every parser,
the original options (reference §4) and the original messages, so that existing
scripts keep working. What changed, on purpose (§10.1 #13-14, §10.3):

* exit status 0 on success, 1 on failure, 2 on bad usage (the original always exited 1);
* TLS is verified (``--cacert FILE`` to trust a private CA, ``--insecure`` to opt out);
* ``--password`` may be left out: ``$REPOTRACK_PASSWORD`` or a terminal prompt supply it;
* ``--file``/``--dir`` read real YAML (``.yaml`` and ``.yml``); ``--scm_commit`` with
  them is a usage error instead of being ignored;
* branch checks use ``git ls-remote`` with a timeout; ``--no-check`` skips them;
* ``--server`` also takes a full ``https://`` URL.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from repotrack.cli.track_core import Connection, UsageError, run_add, run_delete, run_query

__all__ = ["build_parser", "main"]

PROG = "patch_tracking_cli"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        allow_abbrev=False,
        description="Manage tracking items on a patch-tracking server.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="{add,query,delete}")
    add = subparsers.add_parser("add", help="add or update tracking items", allow_abbrev=False)
    _server_options(add)
    _auth_options(add)
    add.add_argument("--version_control", choices=["github", "git"], help="upstream type")
    add.add_argument("--scm_repo", help="upstream repository (owner/name for github, URL for git)")
    add.add_argument("--scm_branch", help="upstream branch")
    add.add_argument("--scm_commit", help="upstream commit to start after (optional)")
    add.add_argument("--repo", help="downstream repository URL")
    add.add_argument("--branch", help="downstream branch")
    add.add_argument("--enabled", choices=["True", "true", "False", "false"], help="tracking on")
    add.add_argument("--file", type=Path, help="YAML file of tracking items")
    add.add_argument("--dir", type=Path, help="directory of YAML files")
    add.add_argument("--no-check", action="store_true", help="skip the git ls-remote branch checks")
    query = subparsers.add_parser("query", help="list tracking items or issues", allow_abbrev=False)
    _server_options(query)
    query.add_argument("--table", required=True, choices=["tracking", "issue"])
    query.add_argument("--repo", help="downstream repository URL")
    query.add_argument("--branch", help="downstream branch")
    delete = subparsers.add_parser("delete", help="delete tracking items", allow_abbrev=False)
    _server_options(delete)
    _auth_options(delete)
    delete.add_argument("--repo", required=True, help="downstream repository URL")
    delete.add_argument("--branch", help="downstream branch (all branches when left out)")
    return parser


def _server_options(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults(subparser=parser)
    parser.add_argument("--server", required=True, help="host:port (https) or a full URL")
    parser.add_argument("--cacert", type=Path, help="PEM file of CA certificates to trust")
    parser.add_argument("--insecure", action="store_true", help="do not verify TLS (unsafe)")


def _auth_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", help="server account name")
    parser.add_argument(
        "--password", help="account password (default: $REPOTRACK_PASSWORD, else a prompt)"
    )


def main(argv: Sequence[str] | None = None) -> None:
    """The console script: a last-resort guard keeps any error to one line."""
    from repotrack.cli.common import guarded

    guarded(lambda: _main(argv))()


def _main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        sys.exit(2)
    subparser: argparse.ArgumentParser = args.subparser
    try:
        code = _dispatch(args)
    except UsageError as exc:
        subparser.error(str(exc))
    sys.exit(code)


def _dispatch(args: argparse.Namespace) -> int:
    conn = Connection(
        server=args.server,
        user=getattr(args, "user", None),
        password=getattr(args, "password", None),
        cacert=args.cacert,
        insecure=args.insecure,
    )
    if args.command == "query":
        return run_query(conn, table=args.table, repo=args.repo, branch=args.branch)
    if args.command == "delete":
        return run_delete(conn, repo=args.repo, branch=args.branch)
    direct = {
        name: getattr(args, name)
        for name in ("version_control", "scm_repo", "scm_branch", "scm_commit", "repo", "branch")
    }
    direct["enabled"] = args.enabled
    return run_add(conn, direct=direct, file=args.file, directory=args.dir, check=not args.no_check)
