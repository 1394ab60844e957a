"""A process that loads a tree again knows its unchanged files by their ``stat``.

The service holds the store and runs every load handed to it; each reload of a plain
tree used to read every file's signature again to tell which package it is. Files are
now known again while their device, inode, size, modification and change times are
the same; any write, or a metadata change, makes the file be read again, and the
package set always holds what ``rpm -qp`` says the files are.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest

from repotrack.ingest import file_ids, load_repo, pipeline
from repotrack.store import Store
from tests.conftest import DATA, need_tool

DAY = date(2024, 5, 1)
HELLO = "rt-hello-1.2.3-4.rt1.x86_64.rpm"
TILDE = "rt-tilde-2.0~rc1-1.noarch.rpm"


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files the test wrote count as settled at once (they would after two seconds)."""
    monkeypatch.setattr(file_ids, "SETTLED", 0.0)


@pytest.fixture
def identified(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files whose signature a load reads to tell which package they are."""
    paths: list[str] = []
    real = pipeline.identify_package
    monkeypatch.setattr(pipeline, "identify_package", lambda p: paths.append(p) or real(p))
    return paths


def _tree(root: Path) -> Path:
    root.mkdir()
    for rpm in sorted((DATA / "rpms").glob("*.rpm")):
        shutil.copy(rpm, root)
    return root


def _set_names(store: Store, day: date, branch: str = "p10") -> list[str]:
    rows = store.query(
        "SELECT pkg_name FROM Packages_buffer WHERE pkg_hash IN (SELECT pkg_hash FROM "
        "PackageSet_buffer WHERE pkgset_uuid IN (SELECT pkgset_uuid FROM PackageSetName "
        "WHERE pkgset_ruuid = (SELECT pkgset_ruuid FROM PackageSetName WHERE pkgset_depth = 0 "
        "AND pkgset_nodename = {b:String} AND toDate(pkgset_date) = {d:Date}))) "
        "ORDER BY pkg_name, pkg_sourcepackage",
        {"d": day, "b": branch},
    )
    return [str(name) for (name,) in rows]


def _rpm_names(tree: Path) -> list[str]:
    """What librpm says the tree's files are (binaries and sources of a name sort as
    the store's query sorts them: the binary first)."""
    done = subprocess.run(
        [need_tool("rpm"), "-qp", "--nosignature", "--qf", "%{NAME} %{SOURCERPM}\n",
         *sorted(map(str, tree.glob("*.rpm")))],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    lines = [line.split() for line in done.stdout.split("\n") if line]
    return [name for name, _ in sorted({(n, s == "(none)") for n, s in lines})]


@pytest.mark.usefixtures("settled")
def test_a_reload_in_the_same_process_reads_no_unchanged_file(
    store: Store, tmp_path: Path, identified: list[str]
) -> None:
    tree = _tree(tmp_path / "tree")
    load_repo(store, branch="p10", path=tree, date=DAY)  # an empty store: read in full
    reload = load_repo(store, branch="p10", path=tree, date=DAY + timedelta(days=1))
    assert identified == []
    assert (reload.new, reload.known) == (0, len(list(tree.glob("*.rpm"))))
    assert _set_names(store, DAY + timedelta(days=1)) == _rpm_names(tree)
    # Another process (or this one after forgetting) reads them and finds the same.
    file_ids.forget_all()
    load_repo(store, branch="p10", path=tree, date=DAY + timedelta(days=2))
    assert len(identified) == len(list(tree.glob("*.rpm")))
    assert _set_names(store, DAY + timedelta(days=2)) == _rpm_names(tree)


@pytest.mark.usefixtures("settled")
def test_a_file_rewritten_in_place_is_read_again(
    store: Store, tmp_path: Path, identified: list[str]
) -> None:
    """rt-hello's file gets rt-tilde's bytes, written into the same inode: the next load
    reads it and stores the package it now is."""
    tree = _tree(tmp_path / "tree")
    load_repo(store, branch="p10", path=tree, date=DAY)
    load_repo(store, branch="other", path=tree, date=DAY)  # to have both known
    target = tree / HELLO
    inode = target.stat().st_ino
    with target.open("r+b") as handle:
        handle.write((DATA / "rpms" / TILDE).read_bytes())
        handle.truncate()
    assert target.stat().st_ino == inode
    load_repo(store, branch="p10", path=tree, date=DAY + timedelta(days=1))
    assert identified == [str(target)]
    assert _set_names(store, DAY + timedelta(days=1)) == _rpm_names(tree)
    assert "rt-hello" in _set_names(store, DAY)  # the day before, it was rt-hello


def test_a_change_that_keeps_size_and_mtime_is_seen(tmp_path: Path, settled: None) -> None:
    """The same bytes written back and the old modification time set again (as
    ``cp -p`` or ``touch -r`` would): the change time still moves."""
    path = tmp_path / "file"
    path.write_bytes(b"x" * 100)
    key = file_ids.stat_key(str(path))
    file_ids.remember(str(path), key, 7)
    assert file_ids.known_id(str(path), file_ids.stat_key(str(path))) == 7
    before = path.stat()
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns - 10**9))
    path.write_bytes(b"y" * 100)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    now = path.stat()
    assert (now.st_ino, now.st_size, now.st_mtime_ns) == (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
    )
    assert now.st_ctime_ns != before.st_ctime_ns
    assert file_ids.known_id(str(path), file_ids.stat_key(str(path))) is None


def test_a_file_changed_just_now_is_not_remembered(tmp_path: Path) -> None:
    """Within two seconds of a change another write could leave the same ``stat`` on a
    file system with coarse timestamps: such a file is read again next time."""
    path = tmp_path / "file"
    path.write_bytes(b"x")
    key = file_ids.stat_key(str(path))
    file_ids.remember(str(path), key, 7)
    assert file_ids.known_id(str(path), key) is None
    old = path.stat().st_mtime_ns - 10 * 10**9
    os.utime(path, ns=(old, old))  # (the change time is still now)
    file_ids.remember(str(path), file_ids.stat_key(str(path)), 7)
    assert file_ids.known_id(str(path), file_ids.stat_key(str(path))) is None


def test_the_memory_is_bounded(
    tmp_path: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service that loads many trees keeps the files it saw last; older ones go."""
    monkeypatch.setattr(file_ids, "LIMIT", 3)
    paths = []
    for n in range(4):
        path = tmp_path / f"file{n}"
        path.write_bytes(b"x")
        paths.append(str(path))
        file_ids.remember(str(path), file_ids.stat_key(str(path)), n)
    file_ids.remember(paths[1], file_ids.stat_key(paths[1]), 1)  # seen again: newest
    assert [file_ids.known_id(p, file_ids.stat_key(p)) for p in paths] == [None, 1, 2, 3]
    file_ids.remember(str(tmp_path), file_ids.stat_key(str(tmp_path)), 9)
    assert [file_ids.known_id(p, file_ids.stat_key(p)) for p in paths] == [None, 1, None, 3]
