"""createrepo metadata: real fixtures, every compression, hostile XML refused."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import re
import shutil
from pathlib import Path

import pytest
import zstandard

from repotrack.errors import InputError
from repotrack.sources import check_metadata_files, iter_repodata_packages, read_repomd
from repotrack.sources.repodata import RPMSENSE_PREREQ
from tests.conftest import need_fixtures


def _packages(root: Path) -> list:  # type: ignore[type-arg]
    return list(iter_repodata_packages(root))


def test_dnf5_repo_joins_primary_filelists_other() -> None:
    root = need_fixtures("repodata", "dnf5", "repomd-repo1")
    packages = _packages(root)
    assert [p.name for p in packages] == ["pkg", "pkg-libs", "unresolvable"]
    pkg = packages[0]
    assert pkg.pkgid.startswith("ec57b154")
    assert pkg.checksum_type == "sha256"
    assert (pkg.epoch, pkg.version, pkg.release) == (0, "1.2", "3")
    assert [f.path for f in pkg.files] == ["/etc/pkg.conf", "/etc/pkg.conf.d"]
    assert [(c.author, c.date, c.text) for c in pkg.changelogs] == [
        ("Joe Black", 1641027600, "First change"),
        ("Jo White", 1672563600, "Second change"),
    ]
    assert pkg.sourcerpm == "pkg-1.2-3.src.rpm"
    remote = packages[2]
    assert remote.location_base == "http://example.com/"
    assert set(remote.dependencies) == {"requires", "conflicts", "obsoletes", "provides"}


def test_real_fedora_metadata() -> None:
    root = need_fixtures("repodata", "librepo", "repo_yum_01")
    (pkg,) = _packages(root)
    assert pkg.name == "filesystem" and pkg.arch == "i686"
    assert pkg.checksum_type == "sha1"
    assert len(pkg.files) == 14508
    assert all(f.kind in ("file", "dir", "ghost") for f in pkg.files)
    assert len(pkg.changelogs) == 10
    assert pkg.changelogs[0].author.startswith("Ondrej Vasik <ovasik@redhat.com>")
    (setup,) = pkg.dependencies["requires"]
    assert setup.name == "setup" and setup.flags == RPMSENSE_PREREQ
    provides = {d.name: d for d in pkg.dependencies["provides"]}
    assert provides["filesystem"].flags == 8  # EQ
    assert provides["filesystem"].version == "2.4.44-1.fc16"


@pytest.mark.parametrize("name", ["repo_01", "repo_with_additional_metadata"])
def test_createrepo_c_fixtures(name: str) -> None:
    root = need_fixtures("repodata", "createrepo_c", name)
    packages = _packages(root)
    assert len(packages) == 1
    assert packages[0].files and packages[0].changelogs


def test_repomd_lists_data_types() -> None:
    root = need_fixtures("repodata", "createrepo_c", "repo_with_additional_metadata")
    entries = read_repomd(root)
    assert {"primary", "filelists", "other", "updateinfo"} <= set(entries)
    assert entries["primary"].href.startswith("repodata/")


def _recompressed(src: Path, dst: Path, compress: object, suffix: str) -> Path:
    """A copy of ``src`` repo whose three XML files use another compression."""
    shutil.copytree(src, dst)
    repomd = dst / "repodata" / "repomd.xml"
    text = repomd.read_text()
    for kind in ("primary", "filelists", "other"):
        plain = dst / "repodata" / f"{kind}.xml"
        packed = dst / "repodata" / f"{kind}.xml{suffix}"
        packed.write_bytes(compress(plain.read_bytes()))  # type: ignore[operator]
        plain.unlink()
        text = text.replace(f"repodata/{kind}.xml", f"repodata/{kind}.xml{suffix}")
    repomd.write_text(text)
    return dst


@pytest.mark.parametrize(
    ("suffix", "compress"),
    [
        (".gz", gzip.compress),
        (".xz", lzma.compress),
        (".bz2", bz2.compress),
        (".zst", lambda data: zstandard.ZstdCompressor().compress(data)),
    ],
)
def test_every_compression(tmp_path: Path, suffix: str, compress: object) -> None:
    src = need_fixtures("repodata", "dnf5", "repomd-repo1")
    root = _recompressed(src, tmp_path / "repo", compress, suffix)
    packages = _packages(root)
    assert [p.name for p in packages] == ["pkg", "pkg-libs", "unresolvable"]
    assert len(packages[0].changelogs) == 2


def _tiny_repo(tmp_path: Path, primary: str, filelists: str | None = None) -> Path:
    root = tmp_path / "repo"
    (root / "repodata").mkdir(parents=True)
    (root / "repodata" / "primary.xml").write_text(primary)
    data = '<data type="primary"><location href="repodata/primary.xml"/></data>'
    if filelists is not None:
        (root / "repodata" / "filelists.xml").write_text(filelists)
        data += '<data type="filelists"><location href="repodata/filelists.xml"/></data>'
    (root / "repodata" / "repomd.xml").write_text(
        f'<repomd xmlns="http://linux.duke.edu/metadata/repo">{data}</repomd>'
    )
    return root


_PKG = """<package type="rpm"><name>{name}</name><arch>noarch</arch>
<version epoch="0" ver="1" rel="1"/><checksum type="sha256" pkgid="YES">{pkgid}</checksum>
<time file="1" build="1700000000"/><location href="{name}-1-1.noarch.rpm"/></package>"""


def _primary(*names: str) -> str:
    body = "".join(_PKG.format(name=n, pkgid=f"{i:064x}") for i, n in enumerate(names))
    return f'<?xml version="1.0"?><metadata xmlns="http://linux.duke.edu/metadata/common">{body}</metadata>'


def test_filelists_in_another_order_are_still_matched(tmp_path: Path) -> None:
    files = "".join(
        f'<package pkgid="{i:064x}"><file>/{n}</file></package>'
        for i, n in reversed(list(enumerate(["a", "b", "c"])))
    )
    root = _tiny_repo(tmp_path, _primary("a", "b", "c"), f"<filelists>{files}</filelists>")
    assert [[f.path for f in p.files] for p in _packages(root)] == [["/a"], ["/b"], ["/c"]]


def test_dtd_and_entities_are_refused(tmp_path: Path) -> None:
    bomb = (
        '<?xml version="1.0"?>\n<!-- comment first -->\n'
        '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>\n'
        "<metadata><package type='rpm'><name>&lol2;</name></package></metadata>"
    )
    root = _tiny_repo(tmp_path, bomb)
    with pytest.raises(InputError, match="DTD"):
        _packages(root)


def test_undeclared_entity_is_a_parse_error(tmp_path: Path) -> None:
    root = _tiny_repo(tmp_path, "<metadata><package><name>&xxe;</name></package></metadata>")
    with pytest.raises(InputError, match="malformed XML"):
        _packages(root)


def test_truncated_xml_names_the_file(tmp_path: Path) -> None:
    root = _tiny_repo(tmp_path, _primary("a")[:-40])
    with pytest.raises(InputError, match=r"primary\.xml: malformed XML"):
        _packages(root)


def test_corrupt_compression_is_input_error(tmp_path: Path) -> None:
    root = _tiny_repo(tmp_path, "")
    (root / "repodata" / "primary.xml").write_bytes(gzip.compress(_primary("a").encode())[:-30])
    with pytest.raises(InputError, match=r"primary\.xml"):
        _packages(root)


def test_location_outside_the_repository_is_refused(tmp_path: Path) -> None:
    root = _tiny_repo(tmp_path, _primary("a"))
    repomd = root / "repodata" / "repomd.xml"
    repomd.write_text(repomd.read_text().replace("repodata/primary.xml", "../../etc/passwd"))
    with pytest.raises(InputError, match="leaves the repository"):
        _packages(root)


def test_repomd_without_primary(tmp_path: Path) -> None:
    root = _tiny_repo(tmp_path, _primary("a"))
    (root / "repodata" / "repomd.xml").write_text("<repomd></repomd>")
    with pytest.raises(InputError, match="primary"):
        _packages(root)


def test_bad_integer_names_the_field(tmp_path: Path) -> None:
    root = _tiny_repo(tmp_path, _primary("a").replace('build="1700000000"', 'build="soon"'))
    with pytest.raises(InputError, match="time/@build"):
        _packages(root)


def test_zchunk_is_refused(tmp_path: Path) -> None:
    root = _tiny_repo(tmp_path, "")
    (root / "repodata" / "primary.xml").write_bytes(b"\x00ZCK1" + b"\0" * 64)
    with pytest.raises(InputError, match="zchunk"):
        _packages(root)


def test_only_sources_or_only_binaries(tmp_path: Path) -> None:
    text = _primary("a", "b").replace("<arch>noarch</arch>", "<arch>src</arch>", 1)
    root = _tiny_repo(tmp_path, text)
    assert [p.name for p in iter_repodata_packages(root, sources=True)] == ["a"]
    assert [p.name for p in iter_repodata_packages(root, sources=False)] == ["b"]


@pytest.mark.parametrize(
    "name",
    [
        "dnf5/repomd-repo1",
        "librepo/repo_yum_01",  # sha1, as yum wrote it
        "createrepo_c/repo_01",  # its primary.xml.gz compressed again: open-checksum holds
        "createrepo_c/repo_with_additional_metadata",
    ],
)
def test_real_metadata_matches_its_repomd(name: str) -> None:
    check_metadata_files(need_fixtures("repodata", *name.split("/")))


def test_a_file_compressed_again_passes_by_its_content(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(need_fixtures("repodata", "librepo", "repo_yum_01"), root)
    (primary,) = (root / "repodata").glob("*primary.xml.gz")
    original = primary.read_bytes()
    primary.write_bytes(gzip.compress(gzip.decompress(original), compresslevel=1))
    assert primary.read_bytes() != original
    check_metadata_files(root)
    repomd = root / "repodata" / "repomd.xml"  # without open-checksum, the file decides
    text = repomd.read_text()
    repomd.write_text(re.sub(r"<open-checksum[^<]*</open-checksum>", "", text))
    with pytest.raises(InputError, match=rf"{primary}: its sha1 is [0-9a-f]{{40}}, not "):
        check_metadata_files(root)


def test_a_metadata_file_that_cannot_be_read_names_it(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(need_fixtures("repodata", "createrepo_c", "repo_01"), root)
    (other,) = (root / "repodata").glob("*other.xml.gz")
    other.unlink()
    with pytest.raises(InputError, match=rf"{other}"):
        check_metadata_files(root)
    (primary,) = (root / "repodata").glob("*primary.xml.gz")  # checked by content: cut
    primary.write_bytes(primary.read_bytes()[:100])
    with pytest.raises(InputError, match=rf"{primary}: cannot decompress"):
        check_metadata_files(root, ("primary",))


def test_a_metadata_file_swapped_for_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(need_fixtures("repodata", "createrepo_c", "repo_01"), root)
    (other,) = (root / "repodata").glob("*other.xml.gz")
    other.unlink()
    os.mkfifo(other)  # nothing ever writes to it: an open that blocks would hang here
    with pytest.raises(InputError, match=rf"{other}: .*not a regular file"):
        check_metadata_files(root)
