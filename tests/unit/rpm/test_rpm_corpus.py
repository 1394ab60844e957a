"""Third-party packages on which repotrack once judged otherwise than the real rpm.

Each file in tests/data/rpm-corpus (see PROVENANCE.md there) came from comparing the
reader and the loader with ``rpm`` on packages from rpm's, cavaliergopher/rpm's and
go-rpmutils' test data; each test here damages a copy the way that showed the
difference and demands ``rpm -K --nosignature``'s verdict, read from rpm in the test.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from repotrack.errors import InputError
from repotrack.ingest.reader import PackageJob, read_package
from repotrack.rpm import file_digests, read_rpm
from repotrack.rpm.header import INTRO_SIZE
from repotrack.rpm.integrity import package_digests
from repotrack.rpm.package import LEAD_SIZE, quick_pkg_hash
from repotrack.rpm.tags import SigTag
from tests.conftest import need_tool
from tests.unit.rpm.support import CORPUS_RPMS, RPM_ENV

NFPM = CORPUS_RPMS / "test-1.0.0.x86_64.rpm"


def _rpm_k(path: Path) -> tuple[bool, str]:
    """``rpm -Kv --nosignature``: whether rpm calls the digests OK, and what it printed."""
    done = subprocess.run(
        ["rpm", "-Kv", "--nosignature", str(path)],
        capture_output=True,
        text=True,
        check=False,
        env=RPM_ENV,
    )
    return done.returncode == 0, done.stdout + done.stderr


def _signature_entry(data: bytes, tag: int) -> int:
    """File offset of the signature header's first index entry for ``tag``."""
    count = int.from_bytes(data[LEAD_SIZE + 8 : LEAD_SIZE + 12], "big")
    for i in range(count):
        at = LEAD_SIZE + INTRO_SIZE + 16 * i
        if int.from_bytes(data[at : at + 4], "big") == tag:
            return at
    raise AssertionError(f"no signature entry for tag {tag}")


def _refused_by_the_loader(path: Path, match: str) -> None:
    """The loader's worker refuses ``path`` with an InputError that names it."""
    job = PackageJob(filename=path.name, source=False, node="x", path=str(path))
    with pytest.raises(InputError, match=match) as caught:
        read_package(job)
    assert caught.value.path == str(path)
    assert str(path) in str(caught.value)


def test_the_corpus_packages_are_sound_for_rpm_and_for_us() -> None:
    need_tool("rpm")
    for path in sorted(CORPUS_RPMS.glob("*.rpm")):
        assert _rpm_k(path)[0], path
        assert package_digests(read_rpm(path)) == file_digests(path)


def test_a_header_no_digest_covers_any_more_is_refused_as_rpm_refuses_it(
    tmp_path: Path,
) -> None:
    """nFPM records one digest of the main header (SHA256HEADER) and no MD5. A damaged
    signature header whose SHA256HEADER entry no longer carries tag 273 leaves the main
    header covered by nothing: ``rpm -K`` says "DIGESTS NOT OK" (the digests it did not
    find are then required). Accepting it stored a header no digest vouched for."""
    need_tool("rpm")
    data = bytearray(NFPM.read_bytes())
    data[_signature_entry(data, SigTag.SHA256)] ^= 0x10  # tag 273 becomes 0x10000111
    bad = tmp_path / NFPM.name
    bad.write_bytes(bytes(data))
    sound, output = _rpm_k(bad)
    assert not sound and "Header SHA256 digest: NOTFOUND" in output, output
    with pytest.raises(InputError, match="no digest covers the header") as caught:
        package_digests(read_rpm(bad))
    assert caught.value.path == str(bad)
    _refused_by_the_loader(bad, "no digest covers the header")


V3_SIGNED = CORPUS_RPMS / "hello-2.0-1.x86_64-v3-signed.rpm"


def _retagged(tmp_path: Path, source: Path, tag: int, new: int) -> Path:
    """A copy of ``source`` whose signature entry for ``tag`` carries tag ``new``."""
    data = bytearray(source.read_bytes())
    at = _signature_entry(data, tag)
    data[at : at + 4] = new.to_bytes(4, "big")
    path = tmp_path / f"{tag}-as-{new}-{source.name}"
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("tag", "new"),
    [(268, SigTag.SHA1), (1002, SigTag.MD5), (1008, SigTag.MD5), (1000, SigTag.SHA256)],
    ids=["RSA-before-SHA1", "PGP-before-MD5", "1008-after-MD5", "SIZE-after-SHA256"],
)
def test_a_tag_met_twice_in_the_signature_reads_as_its_first_entry_as_for_rpm(
    tmp_path: Path, tag: int, new: int
) -> None:
    """A damaged signature header can hold one tag twice. librpm reads the signature
    entry by entry and takes a tag's first entry (``hdrblobGet``); the reader took
    the last, so it accepted a package whose first SHA1HEADER is the RSA signature (rpm:
    "BAD ... invalid type 7") and refused one whose first MD5 is the right one (rpm:
    OK). The verdict must be rpm's, and the quick identity the full read's."""
    need_tool("rpm")
    path = _retagged(tmp_path, V3_SIGNED, tag, new)
    sound, output = _rpm_k(path)
    try:
        package_digests(read_rpm(path))
        ours, message = True, ""
    except InputError as exc:
        ours, message = False, str(exc)
        assert exc.path == str(path)
    assert ours == sound, (message, output)
    if sound:
        job = PackageJob(filename=path.name, source=False, node="x", path=str(path))
        assert read_package(job) is not None
        quick = quick_pkg_hash(path)
        assert quick is None or quick[0] == read_rpm(path).pkg_hash
    else:
        _refused_by_the_loader(path, "damaged package")


@pytest.mark.parametrize(
    ("source", "tag"),
    [(NFPM, 1000), (NFPM, 1007), (V3_SIGNED, 1000)],
    ids=["nfpm-SIZE", "nfpm-PAYLOADSIZE", "v3-SIZE-before-MD5"],
)
def test_an_integer_entry_under_the_md5_tag_is_no_md5_as_for_rpm(
    tmp_path: Path, source: Path, tag: int
) -> None:
    """librpm reads a signature digest only from a string or byte entry: an INT32 entry
    under tag 1004 (a damaged SIZE or PAYLOADSIZE tag) is "MD5 digest: NOTFOUND", and
    the package is judged by its other digests. The checker compared the integer's four
    bytes with the file's MD5 and refused packages rpm calls sound."""
    need_tool("rpm")
    path = _retagged(tmp_path, source, tag, SigTag.MD5)
    sound, output = _rpm_k(path)
    assert sound and "MD5 digest: OK" not in output, output
    assert package_digests(read_rpm(path)) == file_digests(path)
    job = PackageJob(filename=path.name, source=False, node="x", path=str(path))
    assert read_package(job) is not None
