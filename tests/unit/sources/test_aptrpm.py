"""apt-rpm snapshot layout: release, task.info, hash lists, header lists, validity."""

from __future__ import annotations

import hashlib
import lzma
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from repotrack.errors import InputError
from repotrack.sources import (
    iter_header_index,
    read_hash_list,
    read_release,
    read_task_info,
    scan_apt_tree,
)
from tests.unit.sources.treeutil import copy_tree


def test_release_components_and_blake2b(tmp_path: Path) -> None:
    path = tmp_path / "release"
    path.write_text(
        "Origin: ALT Linux Team\nComponents: classic debuginfo gostcrypto\nMD5Sum:\n x\n"
    )
    release = read_release(path)
    assert release.components == ("classic", "debuginfo", "gostcrypto")
    assert not release.has_blake2b
    path.write_text("Components: classic\nBLAKE2b:\n abc 12 base/pkglist.classic\n")
    assert read_release(path).has_blake2b


def test_release_refuses_path_like_component(tmp_path: Path) -> None:
    path = tmp_path / "release"
    path.write_text("Components: ../../etc\n")
    with pytest.raises(InputError, match="Components"):
        read_release(path)


def test_task_info_keeps_two_token_lines(tmp_path: Path) -> None:
    path = tmp_path / "task.info"
    path.write_text("task 283337\nprev 283300\nnoise with three\n\nlonely\n")
    assert read_task_info(path) == {"task": "283337", "prev": "283300"}


def test_hash_list(tmp_path: Path) -> None:
    digest = hashlib.sha256(b"x").hexdigest()
    path = tmp_path / "x86_64.hash.xz"
    path.write_bytes(lzma.compress(f"{digest}  a-1-1.x86_64.rpm\n\n".encode()))
    assert read_hash_list(path) == {"a-1-1.x86_64.rpm": bytes.fromhex(digest)}


@pytest.mark.parametrize("line", ["nothex  a.rpm", "abc", "z" * 64 + "  a.rpm"])
def test_bad_hash_list_line_names_the_line(tmp_path: Path, line: str) -> None:
    path = tmp_path / "src.hash.xz"
    path.write_bytes(lzma.compress(f"{line}\n".encode()))
    with pytest.raises(InputError, match="line 1"):
        read_hash_list(path)


def test_corrupt_hash_list(tmp_path: Path) -> None:
    path = tmp_path / "src.hash.xz"
    path.write_bytes(lzma.compress(b"x" * 100)[:20])
    with pytest.raises(InputError, match=r"src\.hash\.xz"):
        read_hash_list(path)


def test_scan_generated_tree(trees: Path) -> None:
    tree = scan_apt_tree(trees / "apt")
    assert tree.archs == ("x86_64", "noarch")
    assert [c.path for c in tree.components] == ["x86_64/RPMS.classic", "noarch/RPMS.classic"]
    assert tree.task_info == {"task": "283337", "prev": "283300"}
    assert tree.use_blake2b
    assert tree.srpms_paths == ("x86_64/SRPMS.classic", "noarch/SRPMS.classic")


def test_header_index_gives_names_and_digests(trees: Path) -> None:
    tree = scan_apt_tree(trees / "apt")
    entries = list(iter_header_index(tree.components[0].pkglist))
    assert [e.filename for e in entries] == [
        "rt-hello-1.2.3-4.rt1.x86_64.rpm",
        "rt-hello-libs-1.2.3-4.rt1.x86_64.rpm",
    ]
    raw = (tree.components[0].rpms_dir / entries[0].filename).read_bytes()
    assert entries[0].md5 == hashlib.md5(raw, usedforsecurity=False).digest()
    assert entries[0].blake2b == hashlib.blake2b(raw).digest()


def test_missing_files_list_is_refused(trees: Path, tmp_path: Path) -> None:
    root = copy_tree(trees / "apt", tmp_path / "apt")
    shutil.rmtree(root / "files" / "list")
    with pytest.raises(InputError, match="files/list is missing"):
        scan_apt_tree(root)


def test_no_arch_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "files" / "list").mkdir(parents=True)
    with pytest.raises(InputError, match="no architecture directory"):
        scan_apt_tree(tmp_path)


def test_component_without_pkglist_names_the_file(trees: Path, tmp_path: Path) -> None:
    root = copy_tree(trees / "apt", tmp_path / "apt")
    release = root / "x86_64" / "base" / "release"
    release.write_text(
        release.read_text().replace("Components: classic", "Components: classic debuginfo")
    )
    with pytest.raises(InputError, match=r"pkglist\.debuginfo\.xz.*component 'debuginfo'"):
        scan_apt_tree(root)


def test_truncated_header_list(trees: Path, tmp_path: Path) -> None:
    root = copy_tree(trees / "apt", tmp_path / "apt")
    pkglist = root / "x86_64" / "base" / "pkglist.classic.xz"
    data = lzma.decompress(pkglist.read_bytes())
    pkglist.write_bytes(lzma.compress(data[:-10]))
    with pytest.raises(InputError, match=r"pkglist\.classic\.xz"):
        list(iter_header_index(pkglist))


_NAME = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._+~-]{0,40}\.rpm", fullmatch=True)


@given(entries=st.dictionaries(_NAME, st.binary(min_size=32, max_size=32), max_size=20))
def test_hash_list_round_trip(entries: dict[str, bytes]) -> None:
    import tempfile

    text = "".join(f"{digest.hex()}  {name}\n" for name, digest in entries.items())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.hash.xz"
        path.write_bytes(lzma.compress(text.encode()))
        assert read_hash_list(path) == entries
