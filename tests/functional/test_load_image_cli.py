"""``repotrack load image``, ``image_loader`` and the image queries as a user runs them.

Real processes on a real chDB store: a repository load, then a rootfs tarball and a
qcow2 disk image; a reload refused with exit 1; bad option values as one line with
exit 2; a corrupted image refused with nothing stored; the queries' JSON checked
against the RPM files themselves.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import DATA
from tests.functional.test_load_repo import BIN, _run, repotrack
from tests.unit.sources.images.imageutil import (
    BINARY_RPMS,
    binary_hashes,
    make_disk,
    make_ext,
    make_qcow2,
    make_rootfs,
    make_tar,
)

TAR_TAG = "p10:alt-workstation:::release.10.1.0:x86_64:live:tar"
QCOW_TAG = "p10:cloud:::rc.10.0.0:x86_64:install:qcow"


def image_loader(home: Path, *args: str) -> object:
    return _run([str(BIN / "image_loader"), *args], home)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("cli-images")
    root = make_rootfs(base / "root")
    disk = make_disk(make_ext(root, base / "root.ext4"), base / "disk.img")
    return {
        "tar": make_tar(root, base / "rootfs.tar.gz", "w:gz"),
        "qcow": make_qcow2(disk, base / "disk.qcow2"),
    }


def _tar_args(path: Path) -> list[str]:
    return [
        str(path),
        "--edition", "alt-workstation", "--version", "10.1", "--release", "release",
        "--platform", "", "--variant", "live", "--type", "tar", "--flavor", "",
        "--arch", "x86_64", "--branch", "p10", "--date", "2024-05-02",
        "--url", "https://example.org/rootfs.tar.gz",
    ]  # fmt: skip


def test_image_loads_and_queries(images: dict[str, Path], tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert (
        repotrack(
            home, "load", "repo", "p10", str(DATA / "rpms"), "--date", "2024-05-01"
        ).returncode
        == 0
    )

    done = image_loader(home, *_tar_args(images["tar"]))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{TAR_TAG} 2024-05-02: loaded, 5 packages (0 not in the store)")

    again = image_loader(home, *_tar_args(images["tar"]))
    assert again.returncode == 1
    assert again.stderr.strip().splitlines() == [
        f"ConflictError: image {TAR_TAG} of 2024-05-02 is already loaded "
        "(use --force to load it again)"
    ]

    qcow = repotrack(
        home, "load", "image", str(images["qcow"]), "--edition", "cloud", "--version", "10",
        "--release", "rc", "--variant", "install", "--arch", "x86_64", "--branch", "p10",
        "--date", "2024-05-03", "--url", "https://example.org/c.qcow2", "--type", "qcow",
    )  # fmt: skip
    assert qcow.returncode == 0, qcow.stderr

    listed = json.loads(
        repotrack(home, "query", "images", "--branch", "p10", "--format", "json").stdout
    )
    assert [i["tag"] for i in listed] == [QCOW_TAG, TAR_TAG]

    content = json.loads(repotrack(home, "query", "image", QCOW_TAG, "--format", "json").stdout)
    assert {int(p["pkg_hash"]) for p in content["packages"]} == binary_hashes()
    assert content["unknown"] == 0 and content["image"]["type"] == "qcow"

    diff = json.loads(
        repotrack(home, "query", "image-diff", TAR_TAG, QCOW_TAG, "-f", "json").stdout
    )
    assert (diff["added"], diff["removed"], diff["updated"]) == ([], [], [])
    vs_branch = json.loads(repotrack(home, "query", "image-diff", TAR_TAG, "-f", "json").stdout)
    assert vs_branch["added"] == [] and vs_branch["removed"] == []  # the image is the whole repo

    found = json.loads(
        repotrack(home, "query", "image-find", "rt-hello", "--min-version", "3:1.2.3",
                  "-f", "json").stdout
    )  # fmt: skip
    assert sorted(h["image"]["tag"] for h in found) == sorted([QCOW_TAG, TAR_TAG])
    none = json.loads(
        repotrack(home, "query", "image-find", "rt-hello", "--max-version", "3:1.2.2",
                  "-f", "json").stdout
    )  # fmt: skip
    assert none == []
    assert len(BINARY_RPMS) == 5


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (("--version", "1.2.3.4"), "InputError: --version: Failed to parse version: '1.2.3.4'."),
        (("--date", "2024-02-30"), "InputError: --date: Not a valid date: '2024-02-30'."),
        (("--url", "example"), "InputError: --url: Not a valid URL"),
    ],
)
def test_bad_values_are_one_line_exit_2(
    images: dict[str, Path], tmp_path: Path, change: tuple[str, str], line: str
) -> None:
    args = _tar_args(images["tar"])
    args[args.index(change[0]) + 1] = change[1]
    done = image_loader(tmp_path / "home", *args)
    assert (done.returncode, done.stderr.strip()) == (2, line)


def test_bad_choice_is_argparse_usage(images: dict[str, Path], tmp_path: Path) -> None:
    args = _tar_args(images["tar"])
    args[args.index("--edition") + 1] = "alt-desktop"
    done = image_loader(tmp_path / "home", *args)
    assert done.returncode == 2 and "invalid choice: 'alt-desktop'" in done.stderr


def test_corrupted_image_is_one_line_and_stores_nothing(
    images: dict[str, Path], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    assert (
        repotrack(
            home, "load", "repo", "p10", str(DATA / "rpms"), "--date", "2024-05-01"
        ).returncode
        == 0
    )
    cut = tmp_path / "cut.qcow2"
    cut.write_bytes(images["qcow"].read_bytes()[:3000])
    done = repotrack(
        home, "load", "image", str(cut), "--edition", "cloud", "--version", "10",
        "--release", "rc", "--variant", "install", "--arch", "x86_64", "--branch", "p10",
        "--date", "2024-05-03", "--url", "https://example.org/c.qcow2", "--type", "qcow",
    )  # fmt: skip
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"InputError: {cut}:")
    listed = json.loads(repotrack(home, "query", "images", "-f", "json").stdout)
    assert listed == []
