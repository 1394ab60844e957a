"""Recognising trees and planning their nodes and jobs (no store involved)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from repotrack.errors import InputError
from repotrack.ingest.plan import plan_tree
from tests.unit.sources.treeutil import copy_tree


def _jobs(plan):  # type: ignore[no-untyped-def]
    return [job for phase in plan.phases for job in phase()]


def test_apt_plan(trees: Path) -> None:
    plan = plan_tree(trees / "apt")
    assert plan.kind == "apt-rpm"
    assert [(n.key, n.depth, n.type, n.parent) for n in plan.nodes] == [
        ("srpm", 1, "srpm", None),
        ("x86_64", 1, "arch", None),
        ("noarch", 1, "arch", None),
        ("x86_64/RPMS.classic", 2, "comp", "x86_64"),
        ("noarch/RPMS.classic", 2, "comp", "noarch"),
    ]
    assert plan.root_kv == {
        "task": "283337",
        "prev": "283300",
        "archs": "x86_64, noarch",
        "comps": "classic",
    }
    jobs = _jobs(plan)
    assert [j.source for j in jobs] == [True] * 3 + [False] * 5
    assert all(j.expected.md5 and j.expected.sha256 and j.expected.blake2b for j in jobs)


def test_createrepo_plan_with_and_without_files(trees: Path, tmp_path: Path) -> None:
    plan = plan_tree(trees / "createrepo")
    assert plan.kind == "repodata"
    assert [n.key for n in plan.nodes] == ["srpm", "noarch", "x86_64"]
    jobs = _jobs(plan)
    assert len(jobs) == 8 and all(j.path and j.expected.sha256 for j in jobs)
    bare = copy_tree(trees / "createrepo", tmp_path / "bare")
    for rpm in bare.glob("*.rpm"):
        rpm.unlink()
    jobs = _jobs(plan_tree(bare))
    assert len(jobs) == 8 and all(j.path is None and j.meta is not None for j in jobs)


def test_rpm_dir_plan(tmp_path: Path) -> None:
    from tests.conftest import DATA

    for rpm in (DATA / "rpms").glob("*.rpm"):
        shutil.copy(rpm, tmp_path)
    plan = plan_tree(tmp_path)
    assert plan.kind == "rpm-dir"
    assert [n.key for n in plan.nodes] == ["srpm", "noarch", "x86_64"]


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a directory"):
        plan_tree(tmp_path / "nope")


def test_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no \.rpm files"):
        plan_tree(tmp_path)


def test_apt_tree_without_files_list(trees: Path, tmp_path: Path) -> None:
    root = copy_tree(trees / "apt", tmp_path / "apt")
    shutil.rmtree(root / "files" / "list")
    with pytest.raises(InputError, match="files/list is missing"):
        plan_tree(root)


def test_srclist_entry_missing_on_disk(trees: Path, tmp_path: Path) -> None:
    root = copy_tree(trees / "apt", tmp_path / "apt")
    (root / "files" / "SRPMS" / "rt-bz-0.1-0.1.20240101git.src.rpm").unlink()
    with pytest.raises(InputError, match="listed in srclist is missing"):
        _jobs(plan_tree(root))
