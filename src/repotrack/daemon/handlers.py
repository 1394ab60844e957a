"""The one dispatch table from a service to the loader that does its work.

A handler gets the ``Job`` (service, its settings, routing key, decoded payload and
the open store) and returns a one-line summary of what it stored. It raises
``NotAvailableError`` for work repotrack has no loader for yet (the consumer rejects
that message without requeueing, so it dead-letters); any other error is the
original's FAILED: rejected with ``requeue_on_reject`` and reported to the notifier,
``max_redeliver_count`` bounding the retries.

Loads are idempotent, which is what makes redelivery safe: a repository snapshot
already published counts as done, a task directory already loaded adds no rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from repotrack.config import Settings
from repotrack.daemon.config import ServiceConfig
from repotrack.daemon.consumer import BatchWork, NotAvailableError
from repotrack.daemon.rules import DEFAULT_TASK_KEYS
from repotrack.errors import ConflictError, InputError
from repotrack.store import Store

__all__ = [
    "BATCH_HANDLERS",
    "HANDLERS",
    "Handler",
    "Job",
    "NotAvailableError",
    "batch_work_for",
    "task_batch",
    "task_dir_of",
    "work_for",
]

DELETED_MESSAGE = "task deleted"


@dataclass(frozen=True)
class Job:
    service: str
    config: ServiceConfig
    routing_key: str
    payload: Mapping[str, Any]
    store: Store
    settings: Settings


Handler = Callable[[Job], str]


def handle_repo(job: Job) -> str:
    """``repo.load`` ``{"branch": "p10", "date": "YYYY-MM-DD"}``: load ``repo_dirs[branch]``."""
    from repotrack.ingest.repo import RepoLoad

    branch = str(job.payload.get("branch", ""))
    if branch not in job.config.repo_dirs:
        known = ", ".join(sorted(job.config.repo_dirs)) or "none"
        raise InputError(f"branch {branch!r} is not in repo_dirs ({known})", field="branch")
    try:
        day = date.fromisoformat(str(job.payload.get("date", "")))
    except ValueError as exc:
        raise InputError("must be YYYY-MM-DD", field="date") from exc
    if job.config.validate_date and day != datetime.now(UTC).date():
        raise InputError(f"{day} is not today (validate_date is set)", field="date")
    load = RepoLoad(
        branch=branch,
        path=job.config.repo_dirs[branch],
        date=day,
        tag="uploaderd",
        workers=job.config.threads_count,
    )
    try:
        return load.run(job.store).line()
    except ConflictError as exc:  # published by an earlier delivery of this message
        return f"{branch} {day}: {exc}"


def task_dir_of(config: ServiceConfig, task_id: int, state: str) -> Path:
    """``<tasks_dir>/<id>``; a ``done`` task gone from there is in the archive."""
    path = config.tasks_dir / str(task_id)
    if state == "done" and not path.is_dir():
        return config.tasks_archive_dir / f"_{task_id // 1024}" / str(task_id)
    return path


def handle_task(job: Job) -> str:
    """``task.state`` / ``task.progress``: load the task directory; ``deleted``: one state row."""
    from repotrack.ingest.task import load_task

    keys = job.config.routing_keys_dict or DEFAULT_TASK_KEYS
    try:
        task_id = int(job.payload["taskid"])
    except (TypeError, ValueError) as exc:
        raise InputError("must be an integer", field="taskid") from exc
    if job.routing_key in (keys.get("TASK_APPROVE"), keys.get("TASK_DISAPPROVE")):
        return _approval(job.store, task_id, job.routing_key, job.payload)
    state = str(job.payload.get("state", "")).lower()
    if state == "deleted":
        return _mark_deleted(job.store, task_id)
    path = task_dir_of(job.config, task_id, state)
    summary = load_task(job.store, path=path, approvals=False, logs_for_new=False)
    return summary.line()


def _mark_deleted(store: Store, task_id: int) -> str:
    from repotrack.ingest import task_rows as tr

    latest = store.query(
        "SELECT argMax(task_state, (task_changed, ts)) FROM TaskStates WHERE task_id = {t:UInt32}",
        {"t": task_id},
    )
    if latest and latest[0][0] == "DELETED":
        return f"task {task_id}: already marked deleted"
    when = datetime.now(UTC).replace(microsecond=0)
    row: tuple[object, ...] = (
        when,
        task_id,
        "DELETED",
        "",
        [],
        0,
        0,
        0,
        0,
        DELETED_MESSAGE,
        "",
        0,
        [],
    )
    store.insert(tr.STATES, tr.STATES_COLUMNS, [row])
    return f"task {task_id}: marked deleted"


def _approval(store: Store, task_id: int, key: str, payload: Mapping[str, Any]) -> str:
    """One ``TaskApprovals`` row; the same approval again adds nothing.

    Not revoked: name, date and text from ``base64_message`` (an approval file of
    girar). Revoked (``revoke``/``revoked``): ``girar_user`` at ``_timestamp``.
    """
    import base64
    import binascii

    from repotrack.ingest import task_rows as tr
    from repotrack.sources.task.files import text_lines
    from repotrack.sources.task.reader import parse_approval_head

    kind = "approve" if key.endswith(".approve") else "disapprove"
    try:
        subtask = int(payload["subtaskid"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError("must be an integer", field="subtaskid") from exc
    revoked = bool(payload.get("revoke") or payload.get("revoked"))
    if revoked:
        name = str(payload.get("girar_user", ""))
        try:
            when = datetime.fromtimestamp(float(payload["_timestamp"]), UTC)
        except (KeyError, TypeError, ValueError, OverflowError, OSError) as exc:
            raise InputError("must be a Unix time", field="_timestamp") from exc
        message = ""
        if not name:
            raise InputError("is required for a revoked approval", field="girar_user")
    else:
        try:
            text = base64.b64decode(str(payload["base64_message"]), validate=True).decode()
        except (KeyError, binascii.Error, UnicodeDecodeError) as exc:
            raise InputError("must be base64 of UTF-8 text", field="base64_message") from exc
        lines = text_lines(text)
        while lines and not lines[0].strip():
            lines.pop(0)
        head = parse_approval_head(lines[0]) if lines else None
        if head is None:
            raise InputError(
                "expected 'YYYY-Mon-DD HH:MM:SS :: <words> <nick>' first", field="base64_message"
            )
        when, name = head
        message = "\n".join(lines[1:]).strip()
    when = when.replace(microsecond=0)
    latest = store.query(
        "SELECT argMax(tuple(tapp_revoked, tapp_date, tapp_message), ts) FROM TaskApprovals "
        "WHERE task_id = {t:UInt32} AND subtask_id = {s:UInt32} AND tapp_type = {k:String} "
        "AND tapp_name = {n:String} GROUP BY tapp_name",
        {"t": task_id, "s": subtask, "k": kind, "n": name},
    )
    wanted = (int(revoked), when, message)
    if latest and _same(latest[0][0], wanted):
        return f"task {task_id}: {kind} of subtask {subtask} by {name} already stored"
    row: tuple[object, ...] = (task_id, subtask, kind, int(revoked), when, name, message)
    store.insert(tr.APPROVALS, tr.APPROVALS_COLUMNS, [row])
    state = "revoked" if revoked else "stored"
    return f"task {task_id}: {kind} of subtask {subtask} by {name} {state}"


def _same(stored: Any, wanted: tuple[int, datetime, str]) -> bool:
    revoked, when, message = stored
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (int(revoked), when, str(message)) == wanted


def handle_acl(job: Job) -> str:
    from repotrack.ingest.feeds.messages import handle_acl_message

    return f"{handle_acl_message(job.store, job.payload)} acl rows"


def handle_bugzilla(job: Job) -> str:
    from repotrack.ingest.feeds.messages import handle_bugzilla_message

    return f"{handle_bugzilla_message(job.store, job.routing_key, job.payload)} bug rows"


def handle_feed(job: Job) -> str:
    """``beehive.load``, ``repocop.load``, ``watch.load``: the payload is ignored, a full run."""
    from repotrack.ingest.feeds.messages import handle_feed_load_message

    rows = handle_feed_load_message(job.store, job.settings.feeds, job.routing_key)
    return f"{job.routing_key}: {rows} rows"


#: Service name -> loader. A service missing here answers "not available".
HANDLERS: Mapping[str, Handler] = {
    "task_loader": handle_task,
    "repo_loader": handle_repo,
    "acl_loader": handle_acl,
    "bugzilla_loader": handle_bugzilla,
    "beehive_loader": handle_feed,
    "repocop_loader": handle_feed,
    "watch_loader": handle_feed,
}


def _task_path(job: Job) -> Path | None:
    """The directory a task message loads, or None (approvals, deletion, a bad id)."""
    keys = job.config.routing_keys_dict or DEFAULT_TASK_KEYS
    if job.routing_key in (keys.get("TASK_APPROVE"), keys.get("TASK_DISAPPROVE")):
        return None
    state = str(job.payload.get("state", "")).lower()
    try:
        task_id = int(job.payload["taskid"])
    except (KeyError, TypeError, ValueError):
        return None
    return None if state == "deleted" else task_dir_of(job.config, task_id, state)


def task_batch(jobs: Sequence[Job]) -> list[tuple[str, Exception | None]]:
    """Several task messages: each run of directory loads in one ``load_tasks`` pass.

    Order is kept: approvals and deletions run on their own between the runs, and a
    task named twice starts a new run. A run that fails (one unreadable task stops
    ``load_tasks``) is done again message by message, so each gets its own outcome;
    loads are idempotent, so what the failed pass stored is not stored twice.
    """
    from repotrack.ingest.task import load_tasks

    results: list[tuple[str, Exception | None]] = [("", None)] * len(jobs)
    run: list[tuple[int, Path]] = []

    def one(index: int) -> None:
        try:
            results[index] = (handle_task(jobs[index]), None)
        except Exception as exc:  # the consumer settles it as a failed message
            results[index] = ("", exc)

    def flush() -> None:
        if len(run) == 1:
            one(run[0][0])
        elif run:
            try:
                paths = [path for _, path in run]
                summaries = load_tasks(
                    jobs[0].store, paths=paths, approvals=False, logs_for_new=False
                )
            except Exception:
                for index, _ in run:
                    one(index)
            else:
                for (index, _), summary in zip(run, summaries, strict=True):
                    results[index] = (summary.line(), None)
        run.clear()

    for index, job in enumerate(jobs):
        path = _task_path(job)
        if path is None:
            flush()
            one(index)
            continue
        if any(p == path for _, p in run):
            flush()
        run.append((index, path))
    flush()
    return results


#: Service name -> loader of several messages at once (``amqp_batch_size``).
BATCH_HANDLERS: Mapping[str, Callable[[Sequence[Job]], list[tuple[str, Exception | None]]]] = {
    "task_loader": task_batch,
}


def batch_work_for(
    service: str, config: ServiceConfig, store: Store, settings: Settings
) -> BatchWork | None:
    """The consumer's batch work function for ``service``, or None when it has none."""
    handler = BATCH_HANDLERS.get(service)
    if handler is None:
        return None

    def work(items: Sequence[tuple[str, Mapping[str, Any]]]) -> list[tuple[str, Exception | None]]:
        return handler(
            [Job(service, config, key, payload, store, settings) for key, payload in items]
        )

    return work


def work_for(
    service: str, config: ServiceConfig, store: Store, settings: Settings
) -> Callable[[str, Mapping[str, Any]], str] | None:
    """The consumer's work function for ``service``, or None when it has no loader."""
    handler = HANDLERS.get(service)
    if handler is None:
        return None

    def work(routing_key: str, payload: Mapping[str, Any]) -> str:
        return handler(Job(service, config, routing_key, payload, store, settings))

    return work
