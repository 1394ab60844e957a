"""Damaged packages are refused as ``rpm -K`` refuses them, never stored as sound.

The reference is the real rpm: each mutated file (a flipped header byte, a flipped
payload byte, a cut payload) is judged by ``rpm -K --nosignature`` and by
``package_digests``, and the two verdicts must agree. Real packages from
distributions and from our own builds all pass.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from repotrack.errors import InputError
from repotrack.ingest.reader import PackageJob, read_package
from repotrack.rpm import Tag, file_digests, read_rpm
from repotrack.rpm.integrity import package_digests
from tests.conftest import need_tool
from tests.unit.rpm.support import all_rpms, rpm_id

CASES = 60


@pytest.mark.parametrize("path", all_rpms(), ids=rpm_id)
def test_sound_packages_pass_and_digests_are_the_whole_file(path: Path) -> None:
    digests = package_digests(read_rpm(path))
    assert digests == file_digests(path)


def _mutate(rng: random.Random, data: bytes, header_at: int, payload_at: int) -> tuple[str, bytes]:
    out = bytearray(data)
    kind = rng.choice(["header", "payload", "cut"])
    if kind == "header":
        out[rng.randrange(header_at + 16, payload_at)] ^= 1 << rng.randrange(8)
        return kind, bytes(out)
    if payload_at >= len(data):
        return "none", bytes(out)
    if kind == "payload":
        out[rng.randrange(payload_at, len(data))] ^= 1 << rng.randrange(8)
        return kind, bytes(out)
    return kind, bytes(out[: rng.randrange(payload_at, len(data))])


def _rpm_k_ok(path: Path) -> bool:
    import subprocess

    done = subprocess.run(
        ["rpm", "-K", "--nosignature", str(path)], capture_output=True, check=False
    )
    return done.returncode == 0


def test_verdicts_agree_with_rpm_k_on_damaged_packages(tmp_path: Path) -> None:
    need_tool("rpm")
    rng = random.Random(8)
    packages = all_rpms()
    refused = 0
    for case in range(CASES):
        source = rng.choice(packages)
        rpm = read_rpm(source)
        kind, data = _mutate(rng, source.read_bytes(), rpm.header_offset, rpm.payload_offset)
        path = tmp_path / f"case{case}.rpm"
        path.write_bytes(data)
        try:
            package_digests(read_rpm(path))
            ours = True
        except InputError as exc:
            ours = False
            refused += 1
            assert str(path) in str(exc)
        assert ours == _rpm_k_ok(path), (kind, rpm_id(source))
    assert refused >= CASES // 2  # the mutations really damage packages


def test_the_loader_refuses_a_truncated_payload_naming_the_file(tmp_path: Path) -> None:
    source = next(p for p in all_rpms() if p.name.startswith("rt-hello-1.2.3"))
    rpm = read_rpm(source)
    cut = tmp_path / source.name
    cut.write_bytes(
        source.read_bytes()[: rpm.payload_offset + (rpm.file_size - rpm.payload_offset) // 2]
    )
    with pytest.raises(InputError, match="damaged package") as caught:
        read_package(PackageJob(filename=cut.name, source=False, node="x", path=str(cut)))
    assert caught.value.path == str(cut)


def test_a_flipped_header_byte_is_named_as_such(tmp_path: Path) -> None:
    source = next(p for p in all_rpms() if p.name.startswith("rt-hello-1.2.3"))
    rpm = read_rpm(source)
    data = bytearray(source.read_bytes())
    summary = rpm.header.get_str(Tag.SUMMARY)
    assert summary
    at = data.index(summary.encode(), rpm.header_offset)
    data[at] ^= 0x20  # one letter of SUMMARY changes case: a well-formed, altered header
    bad = tmp_path / "flipped.rpm"
    bad.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"SHA(1|256)HEADER does not match"):
        package_digests(read_rpm(bad))


def test_not_an_rpm_is_said_so_whatever_its_size(tmp_path: Path) -> None:
    for content in (b"", b"Zq9secret:x:0:0", b"Zq9secret\n" * 100):
        path = tmp_path / "x.rpm"
        path.write_bytes(content)
        with pytest.raises(InputError, match="not an RPM package") as caught:
            read_rpm(path)
        assert "Zq9" not in str(caught.value) and b"Zq9".hex() not in str(caught.value)
    shutil.rmtree(tmp_path)


def test_a_fifo_or_device_named_like_a_package_is_refused_without_blocking(
    tmp_path: Path,
) -> None:
    """Opening never blocks: a FIFO with no writer would hang a plain ``open``."""
    import os

    from repotrack.rpm import quick_pkg_hash

    fifo = tmp_path / "stuck-1-1.noarch.rpm"
    os.mkfifo(fifo)
    device = tmp_path / "zero-1-1.noarch.rpm"
    device.symlink_to("/dev/zero")
    for path in (fifo, device):
        for read in (read_rpm, quick_pkg_hash, file_digests):
            with pytest.raises(InputError, match="not a regular file") as caught:
                read(path)
            assert caught.value.path == str(path)
