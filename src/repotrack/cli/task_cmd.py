"""Build tasks on the command line: ``load task|package``, ``tasks clean``, ``query task...``.

Adds its commands to the ``load`` and ``query`` groups and mounts ``tasks``; each
command parses, calls one function of ``repotrack.ingest`` or
``repotrack.store.task_queries``, and prints a line, a table or JSON. A missing or
malformed file in a task directory exits 1 (``TaskDataError``), a bad argument 2. The
queries ask the service while ``repotrack serve`` holds the store (``cli.store_reads``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from repotrack.cli.common import console, fail, get_settings, handle_errors
from repotrack.cli.handoff_options import (
    CacertOption,
    InsecureOption,
    PasswordOption,
    ServerOption,
    UserOption,
    handoff,
)

if TYPE_CHECKING:
    from repotrack.cli.load_remote import HandOff
    from repotrack.cli.store_reads import ServiceReader
    from repotrack.ingest.task_jobs import TaskJobRequest, TaskJobSummary
    from repotrack.sources.task import TaskRecord
    from repotrack.store import Store

__all__ = ["dump_read_tasks", "dump_task_json", "register", "run_task_job"]

#: Ctrl-C during a local task load: the tasks already stored stay (each is whole).
INTERRUPTED = (
    "interrupted: the tasks loaded so far are stored; run the same command again to finish"
)

T = TypeVar("T")

tasks_app = typer.Typer(help="Maintain the stored girar build tasks.", no_args_is_help=True)

FormatOption = Annotated[str, typer.Option("--format", "-f", help="table or json.")]


def register(root: typer.Typer) -> None:
    from repotrack.cli import load, query

    load.app.command("task")(load_task_cmd)
    load.app.command("package")(load_package_cmd)
    query.query_app.command("task")(query_task)
    query.query_app.command("task-repo")(query_task_repo)
    query.query_app.command("package-history")(query_package_history)
    query.query_app.command("tasks")(query_tasks)
    root.add_typer(tasks_app, name="tasks")


def dump_task_json(record: TaskRecord, directory: Path = Path("JSON")) -> Path:
    """``-J``: the parsed task as ``JSON/dump-<id>-<YYYY-MM-DD>.json`` (the original's name)."""
    from repotrack.store import to_plain

    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"dump-{record.task_id}-{datetime.now(UTC):%Y-%m-%d}.json"
    text = json.dumps(to_plain(record), indent=2, ensure_ascii=False, default=_json_value)
    target.write_text(text + "\n", encoding="utf-8")
    return target


def _json_value(value: object) -> object:
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


# -- load --------------------------------------------------------------------------------------
#: How a user whose command met the service's store hands it over.
HANDOFF_HINT = (
    "to hand the command to the service, give its password with --password or "
    "REPOTRACK_PASSWORD (and --user or REPOTRACK_USER unless it is service.user), "
    "or pass --via-service"
)

TaskViaServiceOption = Annotated[
    bool,
    typer.Option(
        "--via-service",
        help="Hand the command to the running service (which reads the paths) without "
        "trying the store first.",
    ),
]


def run_task_job(
    request: TaskJobRequest,
    *,
    store_url: str,
    handoff: HandOff | None,
    local: Callable[[Store], T],
    remote: Callable[[TaskJobSummary], T],
) -> T:
    """``local`` on the store, or the job handed to the service that holds it.

    The same rule as ``load repo`` (``cli/load.py``): with ``handoff.always``
    (``--via-service``) the store is not tried; otherwise a store locked by another
    process is handed over when a password is at hand. ``remote`` turns the finished
    job's summary into what ``local`` would have printed or returned.
    """
    import dataclasses

    from repotrack.cli.load_remote import store_held_elsewhere
    from repotrack.errors import StoreError
    from repotrack.ingest.task_jobs import TaskJobSummary
    from repotrack.store import open_current_store

    done: list[T] = []
    if handoff is not None:
        handoff = dataclasses.replace(
            handoff, show=lambda body: done.append(remote(TaskJobSummary.from_dict(body)))
        )
        if handoff.always:
            handoff.run(request)
            return done[0]
    try:
        store = open_current_store(store_url)
    except StoreError as exc:
        if handoff is None or not store_held_elsewhere(exc):
            raise
        handoff.after_lock(exc, request)
        return done[0]
    with store:
        return local(store)


def _handoff(ctx: typer.Context, **options: Any) -> HandOff:
    return handoff(ctx, hint=HANDOFF_HINT, **options)


def _print_lines(lines: Iterable[str]) -> None:
    """Each line as it is (tabs kept: scripts split ``tasks clean``'s lines on them)."""
    for line in lines:
        typer.echo(line)


def dump_read_tasks(
    paths: Sequence[Path], read: Iterable[int], dump: Callable[[TaskRecord], object]
) -> None:
    """``-J`` after a handed-over load: the tasks the service read, dumped here, in order."""
    from repotrack.sources.task import read_task, task_id_of

    by_id = {task_id_of(p): p for p in paths}
    for task_id in read:
        dump(read_task(by_id[task_id]))


@handle_errors
def load_task_cmd(
    ctx: typer.Context,
    # Taken as text and made Paths here: Typer builds a pydantic validator for every
    # Path value it converts (about 0.2 ms each, 0.05 s of a 200-task reload).
    names: Annotated[
        list[str],
        typer.Argument(metavar="paths", help="Task directories, <tasks>/<id>, loaded in turn."),
    ],
    workers: Annotated[int, typer.Option("--workers", "-w", help="Package readers.")] = 1,
    dumpjson: Annotated[
        bool, typer.Option("--dumpjson", "-J", help="Also write JSON/dump-<id>-<date>.json.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", "-F", help="Read every package again, stored or not.")
    ] = False,
    flush: Annotated[
        bool, typer.Option("--flush-buffers", "-f", help="Flush the store's buffers afterwards.")
    ] = False,
    via_service: TaskViaServiceOption = False,
    server: ServerOption = None,
    user: UserOption = None,
    password: PasswordOption = None,
    cacert: CacertOption = None,
    insecure: InsecureOption = False,
) -> None:
    """Load girar build task directories (state, subtasks, builds, plan, approvals, logs).

    Each task is stored whole or not at all; tasks before a failing one stay loaded.
    When every directory is unchanged since it was loaded, that is answered without
    starting the store (from the marks file beside it). While `repotrack serve` holds
    the embedded store, the load is handed to the service when a password is given
    (--password or $REPOTRACK_PASSWORD); --via-service always hands it over. -J then
    writes the dumps here, once the service has loaded the tasks.
    """
    from repotrack.ingest.task_jobs import TaskLoadRequest
    from repotrack.ingest.task_marks import unchanged_line, unchanged_tasks
    from repotrack.sources.task.stamp import task_id_of

    paths = [Path(name) for name in names]
    for path in paths:
        task_id_of(path)  # every name checked before anything is loaded
    store_url = get_settings(ctx).store_url
    if not (force or flush or via_service):
        unchanged = unchanged_tasks(store_url, paths)  # without starting the store
        if unchanged is not None:
            _print_lines(unchanged_line(task_id) for task_id in unchanged)
            return

    def dump(record: TaskRecord) -> None:
        console.print(f"wrote {dump_task_json(record)}", markup=False, highlight=False)

    def local(store: Store) -> None:
        from repotrack.ingest.task import load_tasks

        summaries = load_tasks(
            store,
            paths=paths,
            force=force,
            workers=workers,
            flush=flush,
            on_read=dump if dumpjson else None,
        )
        _print_lines(s.line() for s in summaries)

    def remote(summary: TaskJobSummary) -> None:
        if dumpjson:
            dump_read_tasks(paths, summary.read, dump)
        _print_lines(summary.lines)

    handoff = _handoff(
        ctx,
        via_service=via_service,
        server=server,
        user=user,
        password=password,
        cacert=cacert,
        insecure=insecure,
    )
    request = TaskLoadRequest(tuple(paths), force=force, workers=workers, flush=flush)
    _interruptible(
        lambda: run_task_job(
            request,
            store_url=store_url,
            handoff=handoff,
            local=local,
            remote=remote,
        )
    )


def _interruptible(work: Callable[[], object]) -> None:
    """Ctrl-C: a local load stops (tasks already stored stay); a handed-over one goes on."""
    from repotrack.cli.load import EXIT_INTERRUPTED
    from repotrack.cli.load_remote import Detached

    try:
        work()
    except Detached as exc:
        raise fail(str(exc), code=EXIT_INTERRUPTED) from None
    except KeyboardInterrupt:
        raise fail(INTERRUPTED, code=EXIT_INTERRUPTED) from None


@handle_errors
def load_package_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A source package, NAME.src.rpm.")],
    force: Annotated[bool, typer.Option("--force", "-F", help="Read it even if stored.")] = False,
    flush: Annotated[
        bool, typer.Option("--flush-buffers", "-f", help="Flush the store's buffers afterwards.")
    ] = False,
    via_service: TaskViaServiceOption = False,
    server: ServerOption = None,
    user: UserOption = None,
    password: PasswordOption = None,
    cacert: CacertOption = None,
    insecure: InsecureOption = False,
) -> None:
    """Load one source RPM (outside any task or repository).

    Handed to the running service as `load task` is.
    """
    from repotrack.ingest.task_jobs import PackageLoadRequest

    handoff = _handoff(
        ctx,
        via_service=via_service,
        server=server,
        user=user,
        password=password,
        cacert=cacert,
        insecure=insecure,
    )
    request = PackageLoadRequest(path, force=force, flush=flush)
    _interruptible(
        lambda: run_task_job(
            request,
            store_url=handoff.settings.store_url,
            handoff=handoff,
            local=lambda store: _print_lines(request.run(store).lines),
            remote=lambda summary: _print_lines(summary.lines),
        )
    )


@tasks_app.command("clean")
@handle_errors
def tasks_clean(
    ctx: typer.Context,
    tasks_dir: Annotated[Path, typer.Argument(help="girar's tasks directory.")],
    task: Annotated[int | None, typer.Option("--task", "-t", help="Only this task.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", "-x", help="Report only; store nothing.")
    ] = False,
    via_service: TaskViaServiceOption = False,
    server: ServerOption = None,
    user: UserOption = None,
    password: PasswordOption = None,
    cacert: CacertOption = None,
    insecure: InsecureOption = False,
) -> None:
    """Mark open tasks whose directory is gone as DELETED; list state mismatches.

    Handed to the running service as `load task` is; the mismatches are written to
    unclear_state_tasks.log here either way.
    """
    from repotrack.ingest.task_cleaner import UNCLEAR_LOG, write_unclear_log
    from repotrack.ingest.task_jobs import TaskCleanRequest

    handoff = _handoff(
        ctx,
        via_service=via_service,
        server=server,
        user=user,
        password=password,
        cacert=cacert,
        insecure=insecure,
    )
    request = TaskCleanRequest(tasks_dir, task, dry_run)

    def remote(summary: TaskJobSummary) -> None:
        if summary.unclear:
            write_unclear_log(summary.unclear, Path(UNCLEAR_LOG))
        _print_lines(summary.lines)

    local = TaskCleanRequest(tasks_dir, task, dry_run, unclear_log=Path(UNCLEAR_LOG))
    _interruptible(
        lambda: run_task_job(
            request,
            store_url=handoff.settings.store_url,
            handoff=handoff,
            local=lambda store: _print_lines(local.run(store).lines),
            remote=remote,
        )
    )


# -- queries -----------------------------------------------------------------------------------
def _read(
    ctx: typer.Context, local: Callable[[Store], T], remote: Callable[[ServiceReader], T]
) -> T:
    """``local`` on the configured store, or ``remote`` while ``repotrack serve`` holds it.

    Why: chDB opens in one process only, so these commands ask the service's
    ``/api/v1/tasks`` routes then, and render the same data (``cli.store_reads``). An
    embedded store opened here is brought to the newest schema first, as loads do.
    """
    from repotrack.cli.store_reads import read_store

    return read_store(get_settings(ctx), None, local=local, remote=remote)


def _check_task_id(task_id: int) -> None:
    """The id check ``store.task_queries`` makes, made first so both paths fail alike."""
    from repotrack.errors import InputError

    if not 0 < task_id < 2**32:
        raise InputError(f"must be a positive integer, got {task_id}", field="task id")


def _emit(data: Any, fmt: str) -> bool:
    """Print JSON and return True for ``--format json``; False means: render a table."""
    from repotrack.errors import InputError
    from repotrack.store import to_plain

    if fmt not in ("table", "json"):
        raise InputError(f"expected table or json, got {fmt!r}", field="--format")
    if fmt == "json":
        typer.echo(json.dumps(to_plain(data), indent=2, ensure_ascii=False))
        return True
    return False


def _evr(p: Any) -> str:
    return f"{p.name} {p.evr} {'src' if p.sourcepackage else p.arch}" if p is not None else "-"


@handle_errors
def query_task(
    ctx: typer.Context,
    task_id: Annotated[int, typer.Argument(help="Task id.")],
    fmt: FormatOption = "table",
) -> None:
    """A task: state history, subtasks, builds per arch, approvals, last error lines."""
    from repotrack.cli.store_reads import from_plain
    from repotrack.store.task_queries import TaskInfo, task_info

    _check_task_id(task_id)
    info: TaskInfo = _read(
        ctx,
        local=lambda store: task_info(store, task_id=task_id),
        remote=lambda service: from_plain(TaskInfo, service.get(f"/api/v1/tasks/{task_id}")),
    )
    if _emit(info, fmt):
        return
    out = console.print
    out(
        f"task {info.task_id} {info.branch} {info.state} owner {info.owner} "
        f"({info.changed:%Y-%m-%d %H:%M:%S} UTC)",
        markup=False,
        highlight=False,
    )
    for s in info.states:
        out(
            f"  state {s.changed:%Y-%m-%d %H:%M:%S} {s.state} try {s.try_} {s.message}".rstrip(),
            markup=False,
            highlight=False,
        )
    for sub in info.subtasks:
        gone = " (removed)" if sub.deleted else ""
        out(
            f"  #{sub.subtask_id} {sub.type} {sub.package} {sub.source}{gone}".rstrip(),
            markup=False,
            highlight=False,
        )
    for it in info.iterations:
        out(
            f"  #{it.subtask_id} {it.arch}: {it.status} (try {it.try_}.{it.iter_}) "
            f"srpm {_evr(it.srpm)}",
            markup=False,
            highlight=False,
        )
        for p in it.packages:
            out(f"      {_evr(p)}", markup=False, highlight=False)
        for line in it.errors:
            out(f"      ! {line}", markup=False, highlight=False)
    for a in info.approvals:
        mark = " (revoked)" if a.revoked else ""
        out(
            f"  #{a.subtask_id} {a.type} by {a.name} {a.date:%Y-%m-%d %H:%M}{mark}",
            markup=False,
            highlight=False,
        )


@handle_errors
def query_task_repo(
    ctx: typer.Context,
    task_id: Annotated[int, typer.Argument(help="Task id.")],
    fmt: FormatOption = "table",
) -> None:
    """The branch as it would be after the task: its base snapshot plus DONE tasks and its plan."""
    from repotrack.cli.store_reads import from_plain
    from repotrack.store.task_queries import TaskRepo, task_repo

    _check_task_id(task_id)
    repo: TaskRepo = _read(
        ctx,
        local=lambda store: task_repo(store, task_id=task_id),
        remote=lambda service: from_plain(TaskRepo, service.get(f"/api/v1/tasks/{task_id}/repo")),
    )
    if _emit(repo, fmt):
        return
    base = f"snapshot of task {repo.base_task}" if repo.base is not None else "no snapshot"
    applied = ", ".join(map(str, repo.tasks_applied)) or "none"
    console.print(
        f"task {repo.task_id} on {repo.branch}: {base}; DONE tasks applied: {applied}",
        markup=False,
        highlight=False,
    )
    for p in repo.added:
        console.print(f"+ {_evr(p)}", markup=False, highlight=False)
    for p in repo.removed:
        console.print(f"- {_evr(p)}", markup=False, highlight=False)
    console.print(
        f"{len(repo.packages)} package(s) ({len(repo.added)} added, {len(repo.removed)} removed)",
        markup=False,
    )


@handle_errors
def query_package_history(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Source package name.")],
    branch: Annotated[str, typer.Option("--branch", "-b", help="Branch, e.g. sisyphus.")],
    fmt: FormatOption = "table",
) -> None:
    """Every task that built, copied or deleted a package on a branch, newest first."""
    from urllib.parse import quote

    from repotrack.cli.store_reads import from_plain
    from repotrack.errors import InputError
    from repotrack.store.task_queries import HistoryEntry, package_history

    if not name:  # package_history's own check, before either path
        raise InputError("must not be empty", field="name")
    entries: list[HistoryEntry] = _read(
        ctx,
        local=lambda store: package_history(store, name=name, branch=branch),
        remote=lambda service: from_plain(
            list[HistoryEntry],
            service.get(f"/api/v1/package-history/{quote(name, safe='')}", {"branch": branch})[
                "tasks"
            ],
        ),
    )
    if _emit(entries, fmt):
        return
    for e in entries:
        typer.echo(
            f"{e.task_id}\t#{e.subtask_id}\t{e.action}\t{e.evr or '-'}\t{e.state}\t"
            f"{e.changed:%Y-%m-%d %H:%M}\t{e.owner}",
        )
    console.print(f"{len(entries)} task(s)", markup=False)


@handle_errors
def query_tasks(
    ctx: typer.Context,
    branch: Annotated[str | None, typer.Option("--branch", "-b", help="Branch.")] = None,
    state: Annotated[str | None, typer.Option("--state", "-s", help="Latest state.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Changed on or after this UTC day, YYYY-MM-DD.")
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Owner's nick.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 100,
    fmt: FormatOption = "table",
) -> None:
    """Tasks by their latest state, newest first."""
    from repotrack.cli.query import parse_day
    from repotrack.cli.store_reads import from_plain
    from repotrack.errors import InputError
    from repotrack.store import MAX_LIMIT
    from repotrack.store.task_queries import TaskSummary, list_tasks

    day = parse_day(since, option="--since")
    if not 1 <= limit <= MAX_LIMIT:  # list_tasks' own check, before either path
        raise InputError(f"must be between 1 and {MAX_LIMIT}", field="limit")
    params = {"branch": branch, "state": state, "owner": owner, "limit": limit}
    if day is not None:
        params["since"] = day.isoformat()
    found: list[TaskSummary] = _read(
        ctx,
        local=lambda store: list_tasks(
            store, branch=branch, state=state, since=day, owner=owner, limit=limit
        ),
        remote=lambda service: from_plain(
            list[TaskSummary], service.get("/api/v1/tasks", params)["tasks"]
        ),
    )
    if _emit(found, fmt):
        return
    for t in found:
        typer.echo(
            f"{t.task_id}\t{t.branch}\t{t.state}\t{t.changed:%Y-%m-%d %H:%M}\t"
            f"{t.owner}\t{t.subtasks} subtask(s)\t{t.message}".rstrip(),
        )
    console.print(f"{len(found)} task(s)", markup=False)
