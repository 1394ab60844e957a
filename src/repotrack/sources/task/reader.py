"""``read_task(path)``: a girar task directory -> a ``TaskRecord`` (altrepo §3.2, §3.3).

Everything is read and checked before the loader writes anything, so a missing or
malformed file stops the load with nothing of the task stored. Required: ``task/id``
(equal to the directory name), ``task/state``; every other file is optional and
defaults as girar's absent files mean (0, empty, false).

Differences from the original, deliberate:

- approvals are enumerated from ``acl/approved`` and ``acl/disapproved`` each (the
  original listed ``acl/disapproved`` for both and so missed approvals of subtasks
  nobody had disapproved);
- a file that cannot be parsed (a non-integer ``try``, a bad approval line, bad JSON)
  is an error naming the task and the file, not a silently wrong row;
- the binary packages of an iteration are the files in its ``rpms/`` directory; the
  original preferred the paths in ``plan/add-bin``, which are girar's own absolute
  paths (``/tasks/<id>/build/...``) and name the same files.

As in the original, a subtask has one source package for all its archs: the one
``plan/add-src`` names (its path taken below the task directory), else the first
``build/<N>/<arch>/srpm/*.src.rpm`` in arch order (x86_64, i586, then by name), which
later archs share, a failed one without ``srpm/`` too.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from repotrack.rpm import mmhash
from repotrack.sources.task.files import EPOCH, TaskFiles
from repotrack.sources.task.logs import read_build_log, read_events_log, read_srpm_log
from repotrack.sources.task.plan import read_plan
from repotrack.sources.task.records import (
    Approval,
    Iteration,
    Subtask,
    TaskLog,
    TaskPlan,
    TaskRecord,
    TaskState,
)
from repotrack.sources.task.stamp import fingerprint, task_id_of

__all__ = [
    "SUBTASK_TYPES",
    "find_task_dir",
    "fingerprint",
    "parse_approval_head",
    "read_task",
    "task_id_of",
]

SUBTASK_TYPES = ("unknown", "srpm", "gear", "copy", "delete", "rebuild")
_STATE = re.compile(r"^[A-Z][A-Z_-]*$")
_SUBTASK_DIR = re.compile(r"^[0-7]\d*$")
_EVENTS_LOG = re.compile(r"^events\.(\d+)\.(\d+)\.log$")
_APPROVAL = re.compile(r"^(\d{4}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2}) :: (.*\S)\s*$")
_ARCH_ORDER = {"x86_64": 0, "i586": 1}


def find_task_dir(tasks_dir: Path, task_id: int, archive_dir: Path | None = None) -> Path:
    """``<tasks_dir>/<id>``, or girar's archive of DONE tasks ``<archive>/_<id//1024>/<id>``."""
    live = Path(tasks_dir) / str(task_id)
    if live.is_dir() or archive_dir is None:
        return live
    archived = Path(archive_dir) / f"_{task_id // 1024}" / str(task_id)
    return archived if archived.is_dir() else live


def read_task(path: Path) -> TaskRecord:
    """Read the task at ``path``; raises ``TaskDataError`` naming the task and the file."""
    path = Path(path).absolute()
    task_id = task_id_of(path)
    files = TaskFiles(path, task_id)
    if not path.is_dir():
        raise files.error(path, "no such task directory")
    state = _read_state(files, task_id)
    subtasks = _read_subtasks(files)
    plan = _read_plan(files, state)
    iterations = _read_iterations(files, state, subtasks, plan)
    arepo = tuple(sorted((path / "arepo" / "x86_64-i586" / "rpms").glob("*.rpm")))
    return TaskRecord(
        path=path,
        state=state,
        subtasks=subtasks,
        approvals=_read_approvals(files),
        iterations=iterations,
        plan=plan,
        arepo=arepo,
        events=_read_events(files, task_id),
    )


def _read_state(files: TaskFiles, dir_id: int) -> TaskState:
    task = files.root / "task"
    task_id = files.integer(task / "id", default=None)
    if task_id != dir_id:
        raise files.error(task / "id", f"says task {task_id}, the directory is {dir_id}")
    state = files.text(task / "state", default=None)
    if not _STATE.match(state):
        raise files.error(task / "state", f"not a task state: {state[:40]!r}")
    info = files.root / "info.json"
    changed = max(files.mtime(task / "state"), files.mtime(info, default=EPOCH))
    return TaskState(
        task_id=task_id,
        state=state,
        changed=changed,
        owner=files.text(task / "owner"),
        repo=files.text(task / "repo").lower(),
        runby=files.text(task / "run"),
        depends=_depends(files, task / "depends"),
        try_=files.integer(task / "try"),
        iter_=files.integer(task / "iter"),
        testonly=(task / "test-only").exists(),
        failearly=(task / "fail-early").exists(),
        shared=_shared(files, info),
        message=files.text(task / "message"),
        version=files.text(task / "version"),
        prev=_prev(files),
    )


def _depends(files: TaskFiles, path: Path) -> tuple[int, ...]:
    found = []
    for text in files.lines(path):
        if text.strip():
            if not text.strip().isdigit():
                raise files.error(path, f"not a task id: {text.strip()[:40]!r}")
            found.append(int(text))
    return tuple(found)


def _shared(files: TaskFiles, info: Path) -> bool:
    text = files.text(info)
    if not text:
        return False
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise files.error(info, f"bad JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(data, dict):
        raise files.error(info, "expected a JSON object")
    return bool(data.get("shared"))


def _prev(files: TaskFiles) -> int:
    """The previous repository's task id: the basename of ``build/repo/prev``'s target."""
    link = files.root / "build" / "repo" / "prev"
    if not link.is_symlink() and not link.exists():
        return 0
    name = Path(os.path.realpath(link)).name
    if not name.isdigit():
        raise files.error(link, f"does not lead to a task id: {name[:40]!r}")
    return int(name)


def _read_subtasks(files: TaskFiles) -> tuple[Subtask, ...]:
    gears = files.root / "gears"
    if not gears.is_dir():
        return ()
    found = []
    for entry in sorted(gears.iterdir(), key=lambda p: (len(p.name), p.name)):
        if entry.is_dir() and _SUBTASK_DIR.match(entry.name):
            found.append(_subtask(files, entry))
    return tuple(found)


def _subtask(files: TaskFiles, gear: Path) -> Subtask:
    text = {
        name: files.text(gear / name)
        for name in (
            "userid",
            "sid",
            "dir",
            "tag_name",
            "tag_id",
            "tag_author",
            "srpm",
            "package",
            "copy_repo",
            "rebuild_from",
        )
    }
    kind, _, sid = text["sid"].partition(":")
    deleted = not any((gear / name).exists() for name in ("dir", "srpm", "package"))
    pkg_from = ""
    if deleted:
        kind = "unknown"
    else:
        if text["package"] and not text["dir"]:
            if text["copy_repo"]:
                kind, pkg_from = "copy", text["copy_repo"]
            else:
                kind = "delete"
        if (gear / "rebuild").exists() or (gear / "rebuild_from").exists():
            kind, pkg_from = "rebuild", text["rebuild_from"] or files.text(gear / "rebuild")
        if kind not in SUBTASK_TYPES:
            kind = "unknown"
    name, _, evr = files.text(gear / "nevr").partition("\t")
    changed = max(files.mtime(gear / "userid", default=EPOCH), files.mtime(gear))
    return Subtask(
        subtask_id=int(gear.name),
        changed=changed,
        deleted=deleted,
        userid=text["userid"],
        dir=text["dir"],
        package=text["package"],
        type=kind,
        pkg_from=pkg_from,
        sid=sid if sid else text["sid"],
        tag_author=text["tag_author"],
        tag_id=text["tag_id"],
        tag_name=text["tag_name"],
        srpm=text["srpm"],
        srpm_name=name.strip(),
        srpm_evr=evr.strip(),
    )


def _read_approvals(files: TaskFiles) -> tuple[Approval, ...]:
    found = []
    for folder, kind in (("approved", "approve"), ("disapproved", "disapprove")):
        base = files.root / "acl" / folder
        if not base.is_dir():
            continue
        for sub in sorted(base.iterdir(), key=lambda p: (len(p.name), p.name)):
            if not sub.is_dir() or not sub.name.isdigit():
                continue
            for nick_file in sorted(p for p in sub.iterdir() if p.is_file()):
                found.append(_approval(files, nick_file, int(sub.name), kind))
    return tuple(found)


def _approval(files: TaskFiles, path: Path, subtask: int, kind: str) -> Approval:
    lines = [t for t in files.lines(path)]
    while lines and not lines[0].strip():
        lines.pop(0)
    match = _APPROVAL.match(lines[0]) if lines else None
    if match is None:
        raise files.error(path, "expected 'YYYY-Mon-DD HH:MM:SS :: <words> <nick>'")
    try:
        date = datetime.strptime(match.group(1), "%Y-%b-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        raise files.error(path, f"bad date {match.group(1)!r}") from None
    name = match.group(2).split()[-1]
    return Approval(subtask, kind, name, date, "\n".join(lines[1:]).strip())


def parse_approval_head(line: str) -> tuple[datetime, str] | None:
    """Date and nick of an approval file's first line, ``YYYY-Mon-DD HH:MM:SS :: <words> <nick>``.

    The daemon reads the same format from a girar message's ``base64_message``.
    """
    match = _APPROVAL.match(line)
    if match is None:
        return None
    try:
        date = datetime.strptime(match.group(1), "%Y-%b-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    return date, match.group(2).split()[-1]


def _read_plan(files: TaskFiles, state: TaskState) -> TaskPlan | None:
    """The plan when it belongs to this run (girar bug #40728 leaves stale ones behind)."""
    plan_dir = files.root / "plan"
    if not plan_dir.is_dir():
        return None
    if state.state != "DONE":
        task = files.root / "task"
        if not (state.try_ and state.iter_):
            return None
        newest = max(
            files.mtime(task / "try", default=EPOCH), files.mtime(task / "iter", default=EPOCH)
        )
        if files.mtime(plan_dir) <= newest:
            return None
    return read_plan(files, plan_dir, files.root / "build" / "repo")


def _read_iterations(
    files: TaskFiles, state: TaskState, subtasks: tuple[Subtask, ...], plan: TaskPlan | None
) -> tuple[Iteration, ...]:
    build = files.root / "build"
    planned = _planned_sources(files)
    found: list[Iteration] = []
    for sub in subtasks:
        sub_dir = build / str(sub.subtask_id)
        archs = sorted(
            (p for p in sub_dir.iterdir() if p.is_dir()) if sub_dir.is_dir() else (),
            key=lambda p: (_ARCH_ORDER.get(p.name, 2), p.name),
        )
        source = planned.get(sub.subtask_id)
        for arch_dir in archs:
            it = _iteration(files, state, sub.subtask_id, arch_dir)
            # One source package per subtask, as ALTRepo: the planned one, else the first
            # arch's (until 2026-12-07 each arch had its own, none when srpm/ was absent).
            source = source or it.srpm
            found.append(replace(it, srpm=source))
        if not archs and sub.type == "delete":
            ts = files.mtime(build, default=files.mtime(files.root))
            found.append(Iteration(sub.subtask_id, "x86_64", ts, "deleted", None, (), (), ()))
    return tuple(found)


def _planned_sources(files: TaskFiles) -> dict[int, Path]:
    """``{subtask: .src.rpm}`` from ``plan/add-src`` (read whether or not the plan is current).

    Its path is girar's (``/tasks/<id>/build/<N>/<arch>/srpm[/<file>]``): the part from
    ``build/`` on is looked up in this directory; a path not found there is ignored.
    """
    found: dict[int, Path] = {}
    for text in files.lines(files.root / "plan" / "add-src"):
        fields = text.split("\t")
        if len(fields) < 5 or not fields[4].strip().isdigit():
            continue
        where = "/" + fields[3].strip()
        cut = where.find("/build/")
        if cut < 0:
            continue
        path = files.root.joinpath(*where[cut + 1 :].split("/"))
        if path.is_dir():
            path = path / fields[2].strip()
        if ".." not in path.parts and path.is_file():
            found.setdefault(int(fields[4]), path)
    return found


def _iteration(files: TaskFiles, state: TaskState, subtask: int, arch_dir: Path) -> Iteration:
    status_file = arch_dir / "status"
    status = files.text(status_file) or "failed"
    ts = files.mtime(status_file, default=files.mtime(arch_dir))
    srpms = sorted((arch_dir / "srpm").glob("*.rpm"))
    rpms = tuple(sorted((arch_dir / "rpms").glob("*.rpm")))
    if srpms or rpms:
        status = "built"
    arch = arch_dir.name
    key = f"{state.task_id}{subtask}{state.try_}{state.iter_}{arch}"
    buildlog = srpmlog = None
    if (arch_dir / "log").is_file():
        buildlog = read_build_log(files, arch_dir / "log", "build" + key)
    if (arch_dir / "srpm.log").is_file():
        srpmlog = read_srpm_log(files, arch_dir / "srpm.log", "srpm" + key)
    return Iteration(
        subtask_id=subtask,
        arch=arch,
        ts=ts,
        status=status,
        srpm=srpms[0] if srpms else None,
        rpms=rpms,
        chroot_base=_chroot(files, arch_dir / "chroot_base"),
        chroot_br=_chroot(files, arch_dir / "chroot_BR"),
        buildlog=buildlog,
        srpmlog=srpmlog,
    )


def _chroot(files: TaskFiles, path: Path) -> tuple[int, ...]:
    """``mmhash`` of the digest in the last tab-separated field of each line."""
    found = []
    for number, text in enumerate(files.lines(path), start=1):
        if not text.strip():
            continue
        digest = text.rsplit("\t", 1)[-1].strip()
        try:
            found.append(mmhash(bytes.fromhex(digest)))
        except ValueError:
            raise files.error(path, f"line {number}: not a hex digest: {digest[:70]!r}") from None
    return tuple(found)


def _read_events(files: TaskFiles, task_id: int) -> tuple[TaskLog, ...]:
    found = []
    logs = files.root / "logs"
    if not logs.is_dir():
        return ()
    for path in sorted(logs.iterdir()):
        match = _EVENTS_LOG.match(path.name)
        if match:
            key = f"events{task_id}{int(match.group(1))}{int(match.group(2))}"
            log = read_events_log(files, path, key)
            if log is not None:
                found.append(log)
    return tuple(found)
