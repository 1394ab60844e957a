"""sources.task on small hand-written task directories: the rules of altrepo §3.2-3.3."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from repotrack.errors import InputError, TaskDataError
from repotrack.sources.task import find_task_dir, read_task
from repotrack.sources.task.files import TaskFiles
from repotrack.sources.task.logs import read_events_log, read_srpm_log

T = 1_718_000_000  # 2024-06-10 06:13:20 UTC


def put(root: Path, rel: str, text: str = "", mtime: int = T) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.utime(path, (mtime, mtime))
    return path


def minimal(root: Path, task_id: int = 7, state: str = "NEW") -> Path:
    task = root / str(task_id)
    put(task, "task/id", f"{task_id}\n")
    put(task, "task/state", f"{state}\n")
    return task


def test_minimal_task_defaults(tmp_path: Path) -> None:
    record = read_task(minimal(tmp_path))
    s = record.state
    assert (s.task_id, s.state, s.try_, s.iter_, s.owner, s.prev, s.depends) == (
        7,
        "NEW",
        0,
        0,
        "",
        0,
        (),
    )
    assert s.changed == datetime.fromtimestamp(T, UTC)
    assert (record.subtasks, record.iterations, record.plan, record.events) == ((), (), None, ())


def test_task_id_must_match_the_directory(tmp_path: Path) -> None:
    task = minimal(tmp_path)
    put(task, "task/id", "8\n")
    with pytest.raises(TaskDataError, match="says task 8, the directory is 7"):
        read_task(task)
    with pytest.raises(InputError, match="integer id"):
        read_task(tmp_path)


def test_subtask_types(tmp_path: Path) -> None:
    task = minimal(tmp_path)
    put(task, "gears/1/dir", "/gears/a.git\n")
    put(task, "gears/1/sid", "gear:abc\n")
    put(task, "gears/2/package", "b\n")
    put(task, "gears/3/package", "c\n")
    put(task, "gears/3/copy_repo", "p10\n")
    put(task, "gears/4/srpm", "d.src.rpm\n")
    put(task, "gears/4/rebuild_from", "p9\n")
    put(task, "gears/5/userid", "nobody\n")
    put(task, "gears/100/dir", "/gears/e.git\n")
    put(task, "gears/900/dir", "/gears/f.git\n")  # not [0-7]*: not a subtask
    put(task, "gears/6/sid", "weird:x\n")
    put(task, "gears/6/dir", "/gears/g.git\n")
    got = [(s.subtask_id, s.type, s.pkg_from, s.deleted) for s in read_task(task).subtasks]
    assert got == [
        (1, "gear", "", False),
        (2, "delete", "", False),
        (3, "copy", "p10", False),
        (4, "rebuild", "p9", False),
        (5, "unknown", "", True),
        (6, "unknown", "", False),
        (100, "unknown", "", False),
    ]


def test_approvals_are_read_from_approved_even_without_disapprovals(tmp_path: Path) -> None:
    """The original listed acl/disapproved for both kinds and so lost these."""
    task = minimal(tmp_path)
    put(task, "acl/approved/1/bob", "\n2024-Jun-20 12:34:56 :: approved by bob\nfine\nreally\n")
    (approval,) = read_task(task).approvals
    assert (approval.subtask_id, approval.type, approval.name, approval.message) == (
        1,
        "approve",
        "bob",
        "fine\nreally",
    )
    assert approval.date == datetime(2024, 6, 20, 12, 34, 56, tzinfo=UTC)


def test_an_approval_message_keeps_what_its_lines_hold(tmp_path: Path) -> None:
    """Lines end as a text file's do (``\n``, ``\r\n``, ``\r``); a form feed, U+0085 or
    U+2028 inside a line is part of it (``str.splitlines`` broke there, and the message
    was stored with line breaks in their place)."""
    task = minimal(tmp_path)
    odd = "fine\x0cpage\x85next\u2028sep\x1crecord"
    put(task, "acl/approved/1/bob", f"2024-Jun-20 12:34:56 :: approved by bob\r\n{odd}\rmore\n")
    (approval,) = read_task(task).approvals
    assert approval.message == f"{odd}\nmore"


def test_stale_plan_is_ignored(tmp_path: Path) -> None:
    """girar bug #40728: a plan older than task/try and task/iter belongs to another run."""
    task = minimal(tmp_path, state="FAILED")
    put(task, "task/try", "1\n", T + 10)
    put(task, "task/iter", "1\n", T + 10)
    put(task, "plan/src.list.diff", "+++ b\n@@ x\n+rt-a\t1-alt1\trt-a-1-alt1.src.rpm\n")
    os.utime(task / "plan", (T, T))
    assert read_task(task).plan is None
    os.utime(task / "plan", (T + 20, T + 20))
    plan = read_task(task).plan
    assert plan is not None
    assert [(e.action, e.name, e.arch, e.src_file) for e in plan.entries] == [
        ("add", "rt-a", "src", "rt-a-1-alt1.src.rpm")
    ]
    put(task, "task/state", "DONE\n")
    os.utime(task / "plan", (T, T))
    assert read_task(task).plan is not None  # DONE: always


def test_events_log_rules(tmp_path: Path) -> None:
    files = TaskFiles(tmp_path, 7)
    log = put(
        tmp_path, "e.log", "2020-May-15 10:30:00 :: a :: b\nmore\n2020-May-15 10:31:00 :: c\n"
    )
    lines = read_events_log(files, log, "events711").lines  # type: ignore[union-attr]
    at = datetime(2020, 5, 15, 10, 30, tzinfo=UTC)
    assert [(ln.line, ln.ts, ln.message) for ln in lines] == [
        (1, at, "b"),
        (2, at, "more"),
        (3, at.replace(minute=31), "c"),
    ]
    untimed = put(tmp_path, "u.log", "no time here\n2020-May-15 10:30:00 :: a\n")
    assert read_events_log(files, untimed, "x") is None


def test_srpm_log_year_from_mtime(tmp_path: Path) -> None:
    files = TaskFiles(tmp_path, 7)
    january = int(datetime(2024, 1, 2, tzinfo=UTC).timestamp())
    log = put(
        tmp_path,
        "srpm.log",
        "first line\n<13>Dec 31 23:59:00 built\n<13>Feb 29 10:00:00 leap\n",
        january,
    )
    lines = read_srpm_log(files, log, "srpm").lines
    assert [ln.ts for ln in lines] == [
        datetime(2024, 1, 2, tzinfo=UTC),  # no time: the file's mtime
        datetime(2023, 12, 31, 23, 59, tzinfo=UTC),  # after the mtime: the year before
        datetime(2024, 1, 2, tzinfo=UTC),  # 29 Feb 2024 is after the mtime, 2023 has none
    ]


def test_archived_task_dir(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    (archive / "_1" / "1100").mkdir(parents=True)
    assert find_task_dir(tmp_path / "tasks", 1100, archive) == archive / "_1" / "1100"
    (tmp_path / "tasks" / "1100").mkdir(parents=True)
    assert find_task_dir(tmp_path / "tasks", 1100, archive) == tmp_path / "tasks" / "1100"


def test_fingerprint_changes_with_any_entry(tmp_path: Path) -> None:
    from repotrack.sources.task import fingerprint

    task = minimal(tmp_path)
    first = fingerprint(task, True)
    assert fingerprint(task, True) == first
    assert fingerprint(task, False) != first  # the load options count
    put(task, "acl/approved/1/bob", "2024-Jun-20 12:34:56 :: approved by bob\n")
    second = fingerprint(task, True)
    assert second != first
    os.utime(task / "acl/approved/1/bob", (T + 1, T + 1))
    assert fingerprint(task, True) != second


@pytest.mark.parametrize(
    "rel",
    [
        "plan/x86_64.hash.diff",
        "plan/x86_64.list.diff",
        "plan/add-bin",
        "acl/approved/1/bob",
        "task/depends",
        "build/1/x86_64/chroot_base",
        "logs/events.1.1.log",
        "info.json",
    ],
)
def test_any_text_is_read_or_refused_with_task_and_file(tmp_path: Path, rel: str) -> None:
    """Whatever a file holds, reading gives a record or one TaskDataError naming it."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.text(alphabet=st.sampled_from('+-@ \t\n:abcXYZ0189.fF{}"/'), max_size=80))
    def check(text: str) -> None:
        task = tmp_path / "7"
        if not task.exists():
            minimal(tmp_path, state="DONE")
            put(task, "gears/1/dir", "/gears/a.git\n")
            (task / "build/1/x86_64").mkdir(parents=True)
        put(task, rel, text)
        try:
            read_task(task)
        except TaskDataError as exc:
            assert str(exc).startswith("task 7: ")
            assert Path(rel).name in str(exc)

    check()
