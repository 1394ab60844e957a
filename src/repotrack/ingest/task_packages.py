"""The packages of a batch of tasks: which are stored, and the rows of those that are not.

Every file a task built (``build/<N>/<arch>/srpm``, ``rpms``, ``arepo``) goes through
the repository loader's pipeline, so a package is stored once, under the ``pkg_hash``
and rows ``load repo`` gives the same file. Binaries get the source their iteration
built as ``pkg_srcrpm_hash`` (arepo packages: 0). Files other than ``.noarch.rpm``
are checked against the MD5 and BLAKE2b of the task's header lists
(``build/repo/<arch>/base/pkglist.task.xz``); noarch ones are not, since girar builds
them on every arch with different bytes (altrepo §3.4 step 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from repotrack.errors import InputError, TaskDataError
from repotrack.ingest.pipeline import Pipeline
from repotrack.ingest.reader import PackageJob, read_package
from repotrack.ingest.rows import Digests, PackageRows
from repotrack.sources.task import TaskRecord

if TYPE_CHECKING:
    from repotrack.store import Store

__all__ = ["NewPackage", "PackageError", "read_task_packages", "task_files"]


class PackageError(Exception):
    """A package of task ``tasks[index]`` is bad; ``error`` names the task and the file."""

    def __init__(self, index: int, error: TaskDataError) -> None:
        super().__init__(str(error))
        self.index = index
        self.error = error


def task_files(task: TaskRecord) -> list[Path]:
    """Every package file of the task, once (a subtask's archs share its source)."""
    found = [p for it in task.iterations for p in ((it.srpm,) if it.srpm else ()) + it.rpms]
    return list(dict.fromkeys([*found, *task.arepo]))


def _jobs(task: TaskRecord) -> list[PackageJob]:
    digests = task.plan.digests if task.plan is not None else {}
    jobs: list[PackageJob] = []
    node = str(task.task_id)
    sources: set[Path] = set()
    for it in task.iterations:
        if it.srpm is not None and it.srpm not in sources:
            sources.add(it.srpm)
            jobs.append(PackageJob(it.srpm.name, True, node, str(it.srpm)))
        for rpm in it.rpms:
            jobs.append(PackageJob(rpm.name, False, node, str(rpm), _expected(rpm, digests)))
    jobs.extend(PackageJob(p.name, False, node, str(p)) for p in task.arepo)
    return jobs


def _expected(rpm: Path, digests: dict[str, tuple[bytes, bytes]]) -> Digests:
    if rpm.name.endswith(".noarch.rpm") or rpm.name not in digests:
        return Digests()
    md5, blake2b = digests[rpm.name]
    return Digests(md5=md5, blake2b=blake2b)


def read_task_packages(
    store: Store, tasks: list[TaskRecord], *, force: bool, workers: int
) -> tuple[dict[str, int], dict[int, NewPackage]]:
    """``{path: pkg_hash}`` of every file, and the packages the store lacks, by hash."""
    ids: dict[str, int] = {}
    new: dict[int, NewPackage] = {}
    jobs = [job for task in tasks for job in _jobs(task)]
    try:
        if force:
            for job in jobs:
                rows = read_package(job)
                ids[str(job.path)] = rows.pkg_hash
                new.setdefault(rows.pkg_hash, NewPackage(rows, int(job.node)))
        else:
            with Pipeline(store, workers=workers) as pipeline:
                for outcome in pipeline.run(iter(jobs)):
                    ids[str(outcome.job.path)] = outcome.pkg_hash
                    if outcome.rows is not None:
                        new.setdefault(
                            outcome.pkg_hash, NewPackage(outcome.rows, int(outcome.job.node))
                        )
    except InputError as exc:
        index = _task_of(tasks, exc.path)
        task_id = tasks[index].task_id
        error = TaskDataError(exc.reason, task=task_id, path=exc.path)
        error.__cause__ = exc
        raise PackageError(index, error) from exc
    for task in tasks:
        _link_sources(task, ids, new)
    return ids, new


def _task_of(tasks: list[TaskRecord], path: str | None) -> int:
    for index, task in enumerate(tasks):
        if path is not None and Path(path).is_relative_to(task.path):
            return index
    return 0


@dataclass(slots=True)
class NewPackage:
    """A package to store, and the task that brought it first."""

    rows: PackageRows
    task: int


def _link_sources(task: TaskRecord, ids: dict[str, int], new: dict[int, NewPackage]) -> None:
    """A binary's ``pkg_srcrpm_hash`` is the source its iteration built (arepo: 0)."""
    for it in task.iterations:
        source = ids[str(it.srpm)] if it.srpm is not None else 0
        for rpm in it.rpms:
            fresh = new.get(ids[str(rpm)])
            if fresh is not None and not fresh.rows.source:
                fresh.rows.package["pkg_srcrpm_hash"] = source
    for rpm in task.arepo:
        fresh = new.get(ids[str(rpm)])
        if fresh is not None:
            fresh.rows.package["pkg_srcrpm_hash"] = 0
