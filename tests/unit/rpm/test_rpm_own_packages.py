"""What tests/data/make_rpms.sh put into its packages comes back out of the reader."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from repotrack.rpm import (
    RpmFile,
    Tag,
    compare_evr,
    detect_compression,
    file_kind,
    file_paths,
    read_rpm,
)
from tests.conftest import need_tool
from tests.unit.rpm.support import OWN_RPMS


def _read(name: str) -> RpmFile:
    return read_rpm(OWN_RPMS / name)


def test_epoch_subpackages_and_source_rpm() -> None:
    main = _read("rt-hello-1.2.3-4.rt1.x86_64.rpm")
    libs = _read("rt-hello-libs-1.2.3-4.rt1.x86_64.rpm")
    doc = _read("rt-hello-doc-1.2.3-4.rt1.noarch.rpm")
    src = _read("rt-hello-1.2.3-4.rt1.src.rpm")
    assert main.header.get_int(Tag.EPOCH) == 3
    assert {p.header.get(Tag.SOURCERPM) for p in (main, libs, doc)} == {
        "rt-hello-1.2.3-4.rt1.src.rpm"
    }
    assert (main.header.get(Tag.ARCH), doc.header.get(Tag.ARCH)) == ("x86_64", "noarch")
    assert src.is_source and not main.is_source
    assert src.lead.type == 1 and main.lead.type == 0


def test_file_kinds_and_paths() -> None:
    header = _read("rt-hello-1.2.3-4.rt1.x86_64.rpm").header
    kinds = dict(
        zip(file_paths(header), map(file_kind, header.get_ints(Tag.FILEMODES)), strict=True)
    )
    assert kinds == {
        "/etc/rt-hello.conf": "file",
        "/usr/bin/rt-hello": "file",
        "/usr/bin/rt-hi": "symlink",
        "/usr/share/rt-hello": "directory",
        "/usr/share/rt-hello/empty": "directory",
    }
    links = dict(zip(file_paths(header), header.get_strings(Tag.FILELINKTOS), strict=True))
    assert links["/usr/bin/rt-hi"] == "rt-hello"


def test_scripts_and_interpreters() -> None:
    header = _read("rt-hello-1.2.3-4.rt1.x86_64.rpm").header
    assert "pre-install" in header.get(Tag.PREIN)
    assert "post-install" in header.get(Tag.POSTIN)
    assert header.get_strings(Tag.POSTUNPROG) == ["/bin/sh"]


def test_changelog_newest_first() -> None:
    header = _read("rt-hello-1.2.3-4.rt1.x86_64.rpm").header
    times = header.get_ints(Tag.CHANGELOGTIME)
    names = header.get_strings(Tag.CHANGELOGNAME)
    texts = header.get_strings(Tag.CHANGELOGTEXT)
    assert len(times) == len(names) == len(texts) == 3
    assert times == sorted(times, reverse=True)
    assert names[0] == "Test Packager <packager@example.invalid> - 3:1.2.3-4.rt1"
    assert texts[0].startswith("- Third entry")


def test_dependencies_with_flags() -> None:
    header = _read("rt-hello-1.2.3-4.rt1.x86_64.rpm").header
    conflicts = list(
        zip(
            header.get_strings(Tag.CONFLICTNAME),
            header.get_ints(Tag.CONFLICTFLAGS),
            header.get_strings(Tag.CONFLICTVERSION),
            strict=True,
        )
    )
    assert conflicts == [("rt-hello-old", 2, "1.0")]  # RPMSENSE_LESS
    obsoletes = header.get_strings(Tag.OBSOLETENAME)
    assert obsoletes == ["rt-hello-ancient"]
    requires = dict(zip(header.get_strings(Tag.REQUIRENAME), header.get_ints(Tag.REQUIREFLAGS),
                        strict=True))  # fmt: skip
    assert requires["coreutils"] & 512  # RPMSENSE_SCRIPT_PRE


def test_tilde_version_and_latin1_summary() -> None:
    package = _read("rt-tilde-2.0~rc1-1.noarch.rpm")
    header = package.header
    assert header.get(Tag.VERSION) == "2.0~rc1"
    assert header.get(Tag.SUMMARY) == "Café crème test package"  # latin-1 bytes in the header
    assert header.get_bytes(Tag.SUMMARY) == "Café crème test package".encode("latin-1")
    assert compare_evr((None, "2.0~rc1", "1"), (None, "2.0", "1")) == -1


@pytest.mark.parametrize(
    ("name", "compressor"),
    [
        ("rt-hello-1.2.3-4.rt1.x86_64.rpm", "xz"),
        ("rt-tilde-2.0~rc1-1.noarch.rpm", "zstd"),
        ("rt-bz-0.1-0.1.20240101git.noarch.rpm", "bzip2"),
        ("rt-bz-0.1-0.1.20240101git.src.rpm", "gzip"),
    ],
)
def test_payload_compressors(name: str, compressor: str) -> None:
    package = _read(name)
    assert package.header.get(Tag.PAYLOADCOMPRESSOR) == compressor
    with (OWN_RPMS / name).open("rb") as f:
        f.seek(package.payload_offset)
        assert detect_compression(f.read(6)) == compressor


def test_weak_and_rich_dependencies() -> None:
    header = _read("rt-bz-0.1-0.1.20240101git.noarch.rpm").header
    assert "(rt-hello or rt-tilde)" in header.get_strings(Tag.REQUIRENAME)
    assert header.get_strings(Tag.RECOMMENDNAME) == ["rt-hello-doc"]
    assert header.get_strings(Tag.SUGGESTVERSION) == ["2.0~rc1"]


@pytest.mark.slow
def test_make_rpms_script_rebuilds_the_same_packages(tmp_path: Path) -> None:
    """The committed script still works and yields the committed packages' identities."""
    need_tool("rpmbuild")
    script = OWN_RPMS.parent / "make_rpms.sh"
    subprocess.run([str(script), str(tmp_path)], check=True, capture_output=True, timeout=240)
    built = sorted(p.name for p in tmp_path.glob("*.rpm"))
    assert built == sorted(p.name for p in OWN_RPMS.glob("*.rpm"))
    for name in built:
        new, old = read_rpm(tmp_path / name).header, _read(name).header
        for tag in (Tag.NAME, Tag.EPOCH, Tag.VERSION, Tag.RELEASE, Tag.BUILDTIME, Tag.SUMMARY):
            assert new.get(tag) == old.get(tag), (name, tag)
        assert file_paths(new) == file_paths(old)
