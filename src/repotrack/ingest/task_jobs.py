"""The arguments of ``load task``, ``load package`` and ``tasks clean``, as every face gets them.

Why a module of its own: the CLI runs these requests itself or, while ``repotrack
serve`` holds the embedded store, hands them to the service (``as_dict`` is the body
of ``POST /api/v1/loads``), whose job runner runs them there; the same ``run`` does
the work in both places. It imports the loaders only when it runs, so the CLI's
hand-off path and the service's routes do not pay for them.

``run`` returns a ``TaskJobSummary``: the lines the command prints on stdout (the
service sends them back, so a handed-over command prints exactly what a local one
does), plus what the CLI still does on its own machine afterwards: the ids of the
tasks that were read (``-J`` writes their JSON dump in the caller's directory) and
``tasks clean``'s state mismatches (written to its ``unclear_state_tasks.log``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from repotrack.ingest.repo import LoadProgress
    from repotrack.ingest.task_cleaner import CleanResult
    from repotrack.store import Store

__all__ = [
    "PackageLoadRequest",
    "TaskCleanRequest",
    "TaskJobRequest",
    "TaskJobSummary",
    "TaskLoadRequest",
    "clean_lines",
]


@dataclass(frozen=True, slots=True)
class TaskJobSummary:
    """What a task-side command did, as it prints it."""

    kind: str
    #: The command's stdout, line by line.
    lines: tuple[str, ...]
    seconds: float
    #: ``load task``: the ids of the tasks read (not skipped as unchanged), in order.
    read: tuple[int, ...] = ()
    #: ``tasks clean``: the tasks marked DELETED (or that would be, with ``dry_run``).
    deleted: tuple[int, ...] = ()
    #: ``tasks clean``: (task id, state stored, state on disk) for each mismatch.
    unclear: tuple[tuple[int, str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "lines": list(self.lines),
            "line": "\n".join(self.lines),
            "seconds": round(self.seconds, 3),
            "read": list(self.read),
            "deleted": list(self.deleted),
            "unclear": [list(u) for u in self.unclear],
        }

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> TaskJobSummary:
        return cls(
            kind=str(body["kind"]),
            lines=tuple(str(line) for line in body["lines"]),
            seconds=float(body.get("seconds") or 0.0),
            read=tuple(int(t) for t in body.get("read") or ()),
            deleted=tuple(int(t) for t in body.get("deleted") or ()),
            unclear=tuple((int(t), str(s), str(d)) for t, s, d in body.get("unclear") or ()),
        )


@dataclass(frozen=True, slots=True)
class TaskLoadRequest:
    """``repotrack load task PATH...`` (and ``task_loader``)."""

    kind: ClassVar[str] = "task"
    paths: tuple[Path, ...]
    force: bool = False
    workers: int = 1
    flush: bool = False

    def read_paths(self) -> tuple[Path, ...]:
        return self.paths

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "paths": [str(p) for p in self.paths],
            "force": self.force,
            "workers": self.workers,
            "flush": self.flush,
        }

    def resolved(self) -> TaskLoadRequest:
        """The paths made absolute (the service reads them, from its own directory)."""
        return TaskLoadRequest(
            tuple(p.resolve() for p in self.paths), self.force, self.workers, self.flush
        )

    def run(self, store: Store, progress: LoadProgress | None = None) -> TaskJobSummary:
        from repotrack.ingest.task import load_tasks

        started = time.monotonic()
        summaries = load_tasks(
            store,
            paths=self.paths,
            force=self.force,
            workers=self.workers,
            flush=self.flush,
            progress=progress,
        )
        return TaskJobSummary(
            kind=self.kind,
            lines=tuple(s.line() for s in summaries),
            seconds=time.monotonic() - started,
            read=tuple(s.task_id for s in summaries if not s.unchanged),
        )


@dataclass(frozen=True, slots=True)
class PackageLoadRequest:
    """``repotrack load package FILE.src.rpm`` (and ``package_loader``)."""

    kind: ClassVar[str] = "package"
    path: Path
    force: bool = False
    flush: bool = False

    def read_paths(self) -> tuple[Path, ...]:
        return (self.path,)

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "path": str(self.path), "force": self.force, "flush": self.flush}

    def resolved(self) -> PackageLoadRequest:
        return PackageLoadRequest(self.path.resolve(), self.force, self.flush)

    def run(self, store: Store, progress: LoadProgress | None = None) -> TaskJobSummary:
        from repotrack.ingest.package import load_package

        started = time.monotonic()
        if progress is not None:
            progress.start(total=1)
        summary = load_package(store, path=self.path, force=self.force, flush=self.flush)
        if progress is not None:
            progress.advance(new=summary.new)
        return TaskJobSummary(self.kind, (summary.line(),), time.monotonic() - started)


@dataclass(frozen=True, slots=True)
class TaskCleanRequest:
    """``repotrack tasks clean TASKS_DIR`` (and ``task_cleaner``).

    ``unclear_log`` is where the mismatches are written; the service writes none (the
    CLI that handed the job over writes its own from the summary).
    """

    kind: ClassVar[str] = "task-clean"
    tasks_dir: Path
    task: int | None = None
    dry_run: bool = False
    unclear_log: Path | None = field(default=None, compare=False)

    def read_paths(self) -> tuple[Path, ...]:
        return (self.tasks_dir,)

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "tasks_dir": str(self.tasks_dir),
            "task": self.task,
            "dry_run": self.dry_run,
        }

    def resolved(self) -> TaskCleanRequest:
        return TaskCleanRequest(self.tasks_dir.resolve(), self.task, self.dry_run)

    def run(self, store: Store, progress: LoadProgress | None = None) -> TaskJobSummary:
        from repotrack.ingest.task_cleaner import clean_tasks

        started = time.monotonic()
        result = clean_tasks(
            store,
            tasks_dir=self.tasks_dir,
            task_id=self.task,
            dry_run=self.dry_run,
            unclear_log=self.unclear_log,
        )
        return TaskJobSummary(
            kind=self.kind,
            lines=tuple(clean_lines(result)),
            seconds=time.monotonic() - started,
            deleted=tuple(result.deleted),
            unclear=tuple(result.unclear),
        )


def clean_lines(result: CleanResult) -> list[str]:
    """What ``tasks clean`` prints: the tasks marked, the mismatches, the count line."""
    from repotrack.ingest.task_cleaner import UNCLEAR_LOG

    lines = [f"{tid}\tDELETED" for tid in result.deleted]
    lines += [
        f"{tid}\t{stored} stored, {disk or '-'} on disk" for tid, stored, disk in result.unclear
    ]
    if result.unclear:
        lines.append(f"mismatches written to {UNCLEAR_LOG}")
    lines.append(result.line())
    return lines


#: Any of the three, as the CLI hands it to the service.
TaskJobRequest = TaskLoadRequest | PackageLoadRequest | TaskCleanRequest
