from __future__ import annotations

from pathlib import Path

import pytest

from repotrack.errors import InputError
from repotrack.sources import list_rpm_files


def test_lists_rpms_sorted_with_kind(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    for name in ("b/z-1-1.x86_64.rpm", "a-1-1.src.rpm", "b/readme.txt", "c-1-1.nosrc.rpm"):
        (tmp_path / name).write_bytes(b"")
    entries = list_rpm_files(tmp_path)
    assert [(e.relpath, e.source) for e in entries] == [
        ("a-1-1.src.rpm", True),
        ("b/z-1-1.x86_64.rpm", False),
        ("c-1-1.nosrc.rpm", True),
    ]


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a directory"):
        list_rpm_files(tmp_path / "missing")
