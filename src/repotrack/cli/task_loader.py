"""``task_loader``, ``package_loader``, ``task_cleaner``: ALTRepo's commands on repotrack's loaders.

    task_loader <tasks>/<id> [-c config.ini] [-d DB] [-s HOST] [-p PORT] [-u USER]
                [-P PASSWORD] [-w N] [-D] [-J] [-F] [-f]
    package_loader FILE.src.rpm [-c ...] [-F] [-f] [-D]
    task_cleaner TASKS_DIR [-t ID] [-x] [-c ...] [-D]

Where the data goes is decided as for ``repo_loader``: ``-c`` (ALTRepo's
``config.ini``) or any of ``-d/-s/-p/-u/-P`` name a ClickHouse server, otherwise
repotrack's own store. While ``repotrack serve`` holds that store, the job is handed
to the service as ``repo_loader``'s is (``$REPOTRACK_PASSWORD``, ``--via-service``),
with the same output. Exit status: 0, 1 for a failed load (a missing or malformed
task file), 2 for bad usage (a task directory not named by its integer id).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from repotrack.errors import RepotrackError

if TYPE_CHECKING:
    from repotrack.ingest.task_jobs import TaskJobRequest, TaskJobSummary
    from repotrack.store import Store

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
    parser.add_argument(
        "--via-service",
        action="store_true",
        help="hand the job to the running repotrack service without trying the store",
    )


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
    # --task-id is the original's spelling (scripts call it so), --task ours.
    parser.add_argument(
        "-t", "--task-id", "--task", dest="task", type=int, help="only this task id"
    )
    parser.add_argument("-x", "--dry-run", action="store_true", help="store nothing")
    _connection(parser)
    return parser


#: How a user whose command met the service's store hands it over.
HANDOFF_HINT = (
    "to hand the command to the service, set REPOTRACK_PASSWORD (and REPOTRACK_USER "
    "unless it is service.user), or pass --via-service"
)


def _run(
    args: argparse.Namespace,
    request: Callable[[argparse.Namespace], TaskJobRequest],
    local: Callable[[argparse.Namespace, Store], str],
    remote: Callable[[argparse.Namespace, TaskJobSummary], str],
) -> None:
    """Run the job here or hand it to the service; print its text; errors as one line."""
    os.environ["LANG"] = "C"
    logging.basicConfig(
        format="%(asctime)s: %(message)s", level=logging.DEBUG if args.debug else logging.WARNING
    )
    try:
        print(_work(args, request(args), local, remote))
    except RepotrackError as exc:
        from repotrack.cli.common import error_line

        print(error_line(exc), file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt as exc:
        from repotrack.cli.load_remote import Detached

        message = str(exc) if isinstance(exc, Detached) else INTERRUPTED
        print(message, file=sys.stderr)
        sys.exit(130)


INTERRUPTED = "interrupted: run the same command again to finish"


def _work(
    args: argparse.Namespace,
    request: TaskJobRequest,
    local: Callable[[argparse.Namespace, Store], str],
    remote: Callable[[argparse.Namespace, TaskJobSummary], str],
) -> str:
    from repotrack.cli.load_remote import HandOff, ServiceOptions
    from repotrack.cli.repo_loader import store_url_from_args
    from repotrack.cli.task_cmd import run_task_job
    from repotrack.config import load_settings
    from repotrack.errors import InputError
    from repotrack.ingest.task_jobs import TaskLoadRequest
    from repotrack.ingest.task_marks import unchanged_line, unchanged_tasks

    url = store_url_from_args(args)
    handoff = None
    if url is None:
        settings = load_settings()
        url = settings.store_url
        handoff = HandOff(settings, ServiceOptions(), always=args.via_service, hint=HANDOFF_HINT)
    elif args.via_service:
        raise InputError(
            "hands the job to repotrack's service; it does not mix with -c/-d/-s/-p/-u/-P",
            field="--via-service",
        )
    if isinstance(request, TaskLoadRequest) and not (
        request.force or request.flush or args.via_service
    ):
        unchanged = unchanged_tasks(url, request.paths)  # without starting the store
        if unchanged is not None:
            return "\n".join(unchanged_line(task_id) for task_id in unchanged)
    return run_task_job(
        request,
        store_url=url,
        handoff=handoff,
        local=lambda store: local(args, store),
        remote=lambda summary: remote(args, summary),
    )


def _task_request(args: argparse.Namespace) -> TaskJobRequest:
    from repotrack.ingest.task_jobs import TaskLoadRequest
    from repotrack.sources.task.stamp import task_id_of

    task_id_of(args.path)
    return TaskLoadRequest(
        (args.path,), force=args.force, workers=_workers(args), flush=args.flush_buffers
    )


def _load_task(args: argparse.Namespace, store: Store) -> str:
    from repotrack.cli.task_cmd import dump_task_json
    from repotrack.ingest.task import load_tasks

    (summary,) = load_tasks(
        store,
        paths=[args.path],
        force=args.force,
        workers=_workers(args),
        flush=args.flush_buffers,
        on_read=dump_task_json if args.dumpjson else None,
    )
    return summary.line()


def _task_handed(args: argparse.Namespace, summary: TaskJobSummary) -> str:
    from repotrack.cli.task_cmd import dump_read_tasks, dump_task_json

    if args.dumpjson:
        dump_read_tasks([args.path], summary.read, dump_task_json)
    return "\n".join(summary.lines)


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


def _package_request(args: argparse.Namespace) -> TaskJobRequest:
    from repotrack.ingest.task_jobs import PackageLoadRequest

    return PackageLoadRequest(args.path, force=args.force, flush=args.flush_buffers)


def _load_package(args: argparse.Namespace, store: Store) -> str:
    from repotrack.ingest.package import load_package

    return load_package(store, path=args.path, force=args.force, flush=args.flush_buffers).line()


def _package_handed(args: argparse.Namespace, summary: TaskJobSummary) -> str:
    return "\n".join(summary.lines)


def _clean_request(args: argparse.Namespace) -> TaskJobRequest:
    from repotrack.ingest.task_jobs import TaskCleanRequest

    return TaskCleanRequest(args.tasks_dir, args.task, args.dry_run)


def _clean(args: argparse.Namespace, store: Store) -> str:
    from repotrack.ingest.task_cleaner import clean_tasks

    result = clean_tasks(store, tasks_dir=args.tasks_dir, task_id=args.task, dry_run=args.dry_run)
    return _clean_text(result.deleted, result.line())


def _clean_handed(args: argparse.Namespace, summary: TaskJobSummary) -> str:
    from repotrack.ingest.task_cleaner import UNCLEAR_LOG, write_unclear_log

    if summary.unclear:
        write_unclear_log(summary.unclear, Path(UNCLEAR_LOG))
    return _clean_text(summary.deleted, summary.lines[-1])


def _clean_text(deleted: Sequence[int], last: str) -> str:
    """The original's output: each task marked, then the count line."""
    return "\n".join([*(f"{tid}\tDELETED" for tid in deleted), last])


def task_loader_main(argv: list[str] | None = None) -> None:
    _run(task_loader_parser().parse_args(argv), _task_request, _load_task, _task_handed)


def package_loader_main(argv: list[str] | None = None) -> None:
    _run(package_loader_parser().parse_args(argv), _package_request, _load_package, _package_handed)


def task_cleaner_main(argv: list[str] | None = None) -> None:
    _run(task_cleaner_parser().parse_args(argv), _clean_request, _clean, _clean_handed)
