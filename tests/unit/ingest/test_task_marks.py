"""The task marks file beside an embedded store (``ingest.task_marks``) on a real chDB store.

Checked against the store itself: the file must hold exactly the ``TaskLoadMarks``
rows, never one the store lacks; a reload of unchanged tasks is then answered from it
without starting the store (the CLI run below finds the store locked by this process).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from repotrack.errors import StoreError
from repotrack.ingest import task_marks
from repotrack.ingest.task import load_tasks
from repotrack.ingest.task_marks import (
    MARKS_FILE,
    append_marks,
    marks_file,
    read_marks,
    unchanged_tasks,
)
from repotrack.rpm import mmhash
from repotrack.sources.task import fingerprint
from repotrack.sources.task.stamp import _mmhash
from repotrack.store import Store
from tests.fixtures.girar import task_tree
from tests.unit.store.storeutil import open_fresh_store


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    yield from open_fresh_store(tmp_path_factory, tmp_path / "home" / "store")


@pytest.fixture
def tasks(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> dict[str, Path]:
    return task_tree(tmp_path_factory.mktemp("girar"), tmp_path / "tasks")


def stored_marks(store: Store) -> set[tuple[int, int]]:
    rows = store.query("SELECT task_id, tlm_fingerprint FROM TaskLoadMarks")
    return {(int(t), int(f)) for t, f in rows}


def the_file(store: Store) -> Path:
    file = marks_file(store.url)
    assert file is not None
    return file


def test_the_file_holds_exactly_the_stored_marks(store: Store, tasks: dict[str, Path]) -> None:
    paths = [tasks["done"], tasks["failed"], tasks["new"]]
    load_tasks(store, paths=paths)
    file = the_file(store)
    assert file == Path(store.url.removeprefix("chdb://")) / MARKS_FILE
    assert read_marks(file) == stored_marks(store)
    assert {t for t, _ in read_marks(file)} == {1100, 2001, 2002}
    assert unchanged_tasks(store.url, paths) == [1100, 2001, 2002]
    assert unchanged_tasks(store.url, [tasks["new"], tasks["done"]]) == [2002, 1100]

    (tasks["failed"] / "task" / "state").write_text("AWAITING\n")  # girar moved it on
    assert unchanged_tasks(store.url, paths) is None
    (summary,) = load_tasks(store, paths=[tasks["failed"]])
    assert not summary.unchanged and summary.state == "AWAITING"
    assert read_marks(file) == stored_marks(store)  # the new fingerprint, after its rows
    assert len(stored_marks(store)) == 4
    assert unchanged_tasks(store.url, paths) == [1100, 2001, 2002]


def test_a_failed_load_adds_no_mark_to_the_file(
    store: Store, tasks: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_insert = store.insert

    def failing_insert(table: str, *args: object, **kwargs: object) -> None:
        if table == "TaskLoadMarks":
            raise StoreError("disk full")
        real_insert(table, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "insert", failing_insert)
    with pytest.raises(StoreError):
        load_tasks(store, paths=[tasks["failed"]])
    assert stored_marks(store) == set()
    assert read_marks(the_file(store)) == set()
    assert unchanged_tasks(store.url, [tasks["failed"]]) is None


def test_a_store_without_the_file_fills_it_on_the_next_load(
    store: Store, tasks: dict[str, Path]
) -> None:
    load_tasks(store, paths=[tasks["failed"], tasks["new"]])
    file = the_file(store)
    file.unlink()  # a store loaded before the file existed
    assert unchanged_tasks(store.url, [tasks["failed"]]) is None
    summaries = load_tasks(store, paths=[tasks["failed"], tasks["new"]])
    assert [s.unchanged for s in summaries] == [True, True]
    assert read_marks(file) == stored_marks(store)


def test_unfinished_or_foreign_lines_are_ignored(tmp_path: Path) -> None:
    file = tmp_path / MARKS_FILE
    append_marks(file, [(7, 1), (8, 2**64 - 1)])
    with file.open("a") as out:
        out.write("not a mark\n9 oops\n10 3")  # the last line is being written
    assert read_marks(file) == {(7, 1), (8, 2**64 - 1)}
    assert oct(file.stat().st_mode & 0o777) == "0o600"
    assert read_marks(tmp_path / "absent") == set()


def test_a_grown_file_keeps_the_last_mark_of_each_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(task_marks, "COMPACT_MIN", 200)
    file = tmp_path / MARKS_FILE
    for fingerprint_ in range(1, 40):  # two tasks changing again and again
        append_marks(file, [(7, fingerprint_), (8, 100 + fingerprint_)])
    assert read_marks(file) >= {(7, 39), (8, 139)}
    assert len(read_marks(file)) < 40  # rewritten along the way
    text = file.read_text()
    assert text.startswith("#compacted ")
    assert file.stat().st_size < max(200, 2 * int(text.split()[1]))  # not due again
    assert oct(file.stat().st_mode & 0o777) == "0o600"
    assert not (tmp_path / (MARKS_FILE + ".new")).exists()
    task = tmp_path / "7"
    task.mkdir()
    append_marks(file, [(7, fingerprint(task, True, True))])
    assert unchanged_tasks(f"chdb://{tmp_path}", [task]) == [7]


def test_only_an_embedded_store_has_the_file(tmp_path: Path) -> None:
    assert marks_file("clickhouse://default@localhost:8123/default") is None
    assert marks_file(f"chdb://{tmp_path}") == tmp_path / MARKS_FILE
    assert unchanged_tasks("clickhouse://default@localhost:8123/default", [tmp_path]) is None


def test_the_fingerprint_hash_is_altrepos_mmhash() -> None:
    for text in ("", "f /task/state 6 1718000000000000000", "ünïcode\n" * 50):
        assert _mmhash(text) == mmhash(text)


def test_the_cli_answers_an_unchanged_reload_without_the_store(
    store: Store, tasks: dict[str, Path], tmp_path: Path
) -> None:
    load_tasks(store, paths=[tasks["failed"], tasks["new"]])
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPOTRACK_")}
    env["REPOTRACK_HOME"] = str(tmp_path / "home")  # this process holds its store
    argv = [str(Path(sys.executable).parent / "repotrack"), "load", "task"]
    paths = [str(tasks["failed"]), str(tasks["new"])]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*argv, *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    done = cli(*paths)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        "task 2001: already loaded, directory unchanged\n"
        "task 2002: already loaded, directory unchanged\n"
    )
    assert fingerprint(tasks["new"], True, True) in {f for _, f in read_marks(the_file(store))}
    forced = cli(*paths, "--force")  # reads the tasks: needs the store
    assert forced.returncode == 1 and "is locked by another process" in forced.stderr
    (tasks["new"] / "task" / "state").write_text("AWAITING\n")  # a changed task: the same
    changed = cli(*paths)
    assert changed.returncode == 1 and "is locked by another process" in changed.stderr
