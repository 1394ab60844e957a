"""``task_loader``, ``package_loader``, ``task_cleaner``: ALTRepo's commands on repotrack's loaders.

    task_loader <tasks>/<id> [-c config.ini] [-d DB] [-s HOST] [-p PORT] [-u USER]
                [-P PASSWORD] [-w N] [-D] [-J] [-F] [-f]
    package_loader FILE.src.rpm [-c ...] [-F] [-f] [-D]
    task_cleaner TASKS_DIR [-t ID] [-x] [-c ...] [-D]

Where the data goes is decided as for ``repo_loader``: ``-c`` (ALTRepo's
``config.ini``) or any of ``-d/-s/-p/-u/-P`` name a ClickHouse server, otherwise
repotrack's own store. Exit status: 0, 1 for a failed load (a missing or malformed
task file), 2 for bad usage (a task directory not named by its integer id).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from repotrack.errors import RepotrackError

__all__ = ["package_loader_main", "task_cleaner_main", "task_loader_main"]

DEFAULT_WORKERS = 4


def _connection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", type=Path, help="ALTRepo config.ini")
    parser.add_argument("-d", "--dbname", help="database name")
    parser.add_argument("-s", "--host", help="database host")
    parser.add_argument("-p", "--port", type=int, help="database port")
    parser.add_argument("-u", "--user", help="database user")
    parser.add_argument("-P", "--password", help="database password")
    parser.add_argument("-D", "--debug", action="store_true", help="debug logging")


def task_loader_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="task_loader", description="Load a girar task.")
    parser.add_argument("path", type=Path, help="task directory, <tasks>/<id>")
    _connection(parser)
    parser.add_argument("-w", "--workers", type=int, default=DEFAULT_WORKERS, help="readers")
    parser.add_argument("-J", "--dumpjson", action="store_true", help="write JSON/dump-*.json")
    parser.add_argument("-F", "--force", action="store_true", help="read packages again")
    parser.add_argument("-f", "--flush-buffers", action="store_true", help="flush buffers")
    return parser


def package_loader_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="package_loader", description="Load a source RPM.")
    parser.add_argument("path", type=Path, help="source package file")
    _connection(parser)
    parser.add_argument("-F", "--force", action="store_true", help="read it even if stored")
    parser.add_argument("-f", "--flush-buffers", action="store_true", help="flush buffers")
    return parser


def task_cleaner_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="task_cleaner", description="Close vanished tasks.")
    parser.add_argument("tasks_dir", type=Path, help="girar's tasks directory")
    parser.add_argument("-t", "--task", type=int, help="only this task id")
    parser.add_argument("-x", "--dry-run", action="store_true", help="store nothing")
    _connection(parser)
    return parser


def _store_url(args: argparse.Namespace) -> str:
    from repotrack.cli.repo_loader import store_url_from_args
    from repotrack.config import load_settings

    return store_url_from_args(args) or load_settings().store_url


def _run(args: argparse.Namespace, work: Callable[[argparse.Namespace, str], str]) -> None:
    os.environ["LANG"] = "C"
    logging.basicConfig(
        format="%(asctime)s: %(message)s", level=logging.DEBUG if args.debug else logging.WARNING
    )
    try:
        print(work(args, _store_url(args)))
    except RepotrackError as exc:
        from repotrack.cli.common import error_line

        print(error_line(exc), file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted: run the same command again to finish", file=sys.stderr)
        sys.exit(130)


def _load_task(args: argparse.Namespace, url: str) -> str:
    from repotrack.cli.task_cmd import dump_task_json, open_migrated
    from repotrack.ingest.task import load_tasks
    from repotrack.sources.task import task_id_of

    task_id_of(args.path)
    with open_migrated(url) as store:
        (summary,) = load_tasks(
            store,
            paths=[args.path],
            force=args.force,
            workers=_workers(args),
            flush=args.flush_buffers,
            on_read=dump_task_json if args.dumpjson else None,
        )
    return summary.line()


def _workers(args: argparse.Namespace) -> int:
    """The original's rule: the larger of ``-w`` and config.ini's ``workers``."""
    from repotrack.cli.repo_loader import _read_config
    from repotrack.errors import ConfigError

    configured = 0
    if args.config is not None:
        config = _read_config(args.config)
        value = config.defaults().get("workers") or (
            config.get("DATABASE", "workers", fallback="") if config.has_section("DATABASE") else ""
        )
        try:
            configured = int(value) if value else 0
        except ValueError:
            raise ConfigError(
                f"not a number: {value!r}", source=str(args.config), key="workers"
            ) from None
    return max(1, min(64, max(configured, int(args.workers))))


def _load_package(args: argparse.Namespace, url: str) -> str:
    from repotrack.cli.task_cmd import open_migrated
    from repotrack.ingest.package import load_package

    with open_migrated(url) as store:
        return load_package(
            store, path=args.path, force=args.force, flush=args.flush_buffers
        ).line()


def _clean(args: argparse.Namespace, url: str) -> str:
    from repotrack.cli.task_cmd import open_migrated
    from repotrack.ingest.task_cleaner import clean_tasks

    with open_migrated(url) as store:
        result = clean_tasks(
            store, tasks_dir=args.tasks_dir, task_id=args.task, dry_run=args.dry_run
        )
    lines = [f"{tid}\tDELETED" for tid in result.deleted]
    return "\n".join([*lines, result.line()])


def task_loader_main(argv: list[str] | None = None) -> None:
    _run(task_loader_parser().parse_args(argv), _load_task)


def package_loader_main(argv: list[str] | None = None) -> None:
    _run(package_loader_parser().parse_args(argv), _load_package)


def task_cleaner_main(argv: list[str] | None = None) -> None:
    _run(task_cleaner_parser().parse_args(argv), _clean)
