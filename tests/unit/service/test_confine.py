"""``[loads] allowed_roots``: the root check and the walk over a tree's symlinks."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from repotrack.errors import InputError
from repotrack.ingest.repo import RepoLoad
from repotrack.service.confine import Confinement


def load(path: Path) -> RepoLoad:
    return RepoLoad(branch="p10", path=path, date=dt.date(2024, 5, 1))


def test_no_roots_refuses_every_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"\[loads\] allowed_roots"):
        Confinement([]).check_root(tmp_path)


def test_root_check_resolves_links_and_dot_dots(tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    (allowed / "tree").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    confinement = Confinement([allowed])
    confinement.check_root(allowed / "tree")
    confinement.check_root(allowed)
    for path in (outside, allowed / ".." / "outside", allowed.with_name("allowed-not")):
        with pytest.raises(InputError, match="outside the directories"):
            confinement.check_root(path)
    (allowed / "escape").symlink_to(outside)
    with pytest.raises(InputError, match="outside the directories"):
        confinement.check_root(allowed / "escape")


def test_walk_follows_links_inside_and_refuses_links_outside(tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    tree = allowed / "tree"
    (tree / "files").mkdir(parents=True)
    (tree / "files" / "a.rpm").write_bytes(b"x")
    (tree / "RPMS.classic").mkdir()
    (tree / "RPMS.classic" / "a.rpm").symlink_to(tree / "files" / "a.rpm")
    (tree / "loop").symlink_to(tree)  # a loop is walked once
    (tree / "dangling.rpm").symlink_to(allowed / "gone")
    confinement = Confinement([allowed])
    confinement.check_job(load(tree))
    (tree / "files" / "deep").mkdir()
    (tree / "files" / "deep" / "passwd.rpm").symlink_to("/etc/passwd")
    with pytest.raises(InputError) as caught:
        confinement.check_job(load(tree))
    assert str(caught.value) == "symlink files/deep/passwd.rpm leads outside [loads] allowed_roots"
    assert "/etc/passwd" not in str(caught.value)


def test_walk_refuses_special_files(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    os.mkfifo(tree / "fifo.rpm")
    with pytest.raises(InputError, match=r"fifo\.rpm is a FIFO, device or socket"):
        Confinement([tmp_path]).check_job(load(tree))
    (tree / "fifo.rpm").unlink()
    (tree / "zero.rpm").symlink_to("/dev/zero")
    with pytest.raises(InputError, match="leads outside"):
        Confinement([tmp_path]).check_job(load(tree))
    with pytest.raises(InputError, match=r"zero\.rpm is a FIFO, device or socket"):
        Confinement([tmp_path, Path("/dev")]).check_job(load(tree))
