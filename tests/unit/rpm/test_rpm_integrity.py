"""Damaged packages are refused as ``rpm -K`` refuses them, never stored as sound.

The reference is the real rpm: each mutated file (a flipped byte anywhere: lead,
signature header, header, payload; a cut payload) is judged by ``rpm -K --nosignature``
and by ``package_digests``, and the two verdicts must agree, except where we refuse over
a header digest rpm did not look at (``_checked_what_rpm_did_not``). Real packages from
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
from repotrack.rpm.package import LEAD_SIZE
from repotrack.rpm.tags import SigTag
from tests.conftest import need_tool
from tests.unit.rpm.support import all_rpms, rpm_id

CASES = 120


@pytest.mark.parametrize("path", all_rpms(), ids=rpm_id)
def test_sound_packages_pass_and_digests_are_the_whole_file(path: Path) -> None:
    digests = package_digests(read_rpm(path))
    assert digests == file_digests(path)


def _mutate(rng: random.Random, data: bytes, header_at: int, payload_at: int) -> tuple[str, bytes]:
    out = bytearray(data)
    kind = rng.choice(["lead", "signature", "header", "payload", "cut"])
    if kind == "lead":  # no digest covers the lead: its fields are checked as rpm does
        out[rng.randrange(0, LEAD_SIZE)] ^= 1 << rng.randrange(8)
        return kind, bytes(out)
    if kind == "signature":  # nor the signature header: its structure and digests are
        out[rng.randrange(LEAD_SIZE, header_at)] ^= 1 << rng.randrange(8)
        return kind, bytes(out)
    if kind == "header":
        out[rng.randrange(header_at + 16, payload_at)] ^= 1 << rng.randrange(8)
        return kind, bytes(out)
    if payload_at >= len(data):
        return "none", bytes(out)
    if kind == "payload":
        out[rng.randrange(payload_at, len(data))] ^= 1 << rng.randrange(8)
        return kind, bytes(out)
    return kind, bytes(out[: rng.randrange(payload_at, len(data))])


#: Our messages for the header digests, and how ``rpm -Kv`` names the same digest.
_RPM_NAMES = {
    "SHA1HEADER": "Header SHA1 digest",
    "SHA256HEADER": "Header SHA256 digest",
    "SHA3-256 header digest": "Header SHA3-256 digest",
}


def _rpm_k(path: Path) -> tuple[bool, str]:
    """``rpm -Kv --nosignature``: whether the digests are OK, and what it printed."""
    import subprocess

    done = subprocess.run(
        ["rpm", "-Kv", "--nosignature", str(path)], capture_output=True, text=True, check=False
    )
    return done.returncode == 0, done.stdout + done.stderr


def _checked_what_rpm_did_not(message: str, rpm_output: str) -> bool:
    """We refused over a header digest rpm did not look at: SHA3-256, which rpm 4.18 does
    not know (rpm 6 checks it), or a digest entry whose type the damage changed, which
    librpm skips. The file is damaged either way; refusing it is the stricter verdict."""
    return any(ours in message and theirs not in rpm_output for ours, theirs in _RPM_NAMES.items())


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
        message = ""
        try:
            package_digests(read_rpm(path))
            ours = True
        except InputError as exc:
            ours, message = False, str(exc)
            refused += 1
            assert str(path) in message
        theirs, output = _rpm_k(path)
        if ours != theirs:
            assert not ours and _checked_what_rpm_did_not(message, output), (
                kind, rpm_id(source), message, output
            )  # fmt: skip
    assert refused >= CASES // 2  # the mutations really damage packages


def test_a_damaged_lead_is_refused_as_rpm_refuses_it(tmp_path: Path) -> None:
    source = next(p for p in all_rpms() if p.name.startswith("rt-hello-1.2.3"))
    for at, value, message in ((78, 4, "illegal signature type 4"),
                               (4, 5, "unsupported RPM package version 5")):  # fmt: skip
        data = bytearray(source.read_bytes())
        data[at + 1 if at == 78 else at] = value  # the signature type is a big-endian short
        bad = tmp_path / f"lead{at}.rpm"
        bad.write_bytes(bytes(data))
        with pytest.raises(InputError, match=message):
            read_rpm(bad)


def test_a_damaged_md5_is_refused_where_a_payload_digest_exists_too(tmp_path: Path) -> None:
    source = next(
        p for p in all_rpms()
        if (r := read_rpm(p)).header.get(Tag.PAYLOADDIGEST) and r.signature.get(SigTag.MD5)
    )  # fmt: skip
    rpm = read_rpm(source)
    md5 = rpm.signature.get_bytes(SigTag.MD5)
    assert md5
    data = bytearray(source.read_bytes())
    at = data.index(md5, LEAD_SIZE, rpm.header_offset)
    data[at] ^= 1
    bad = tmp_path / "md5.rpm"
    bad.write_bytes(bytes(data))
    with pytest.raises(InputError, match="MD5 of header and payload"):
        package_digests(read_rpm(bad))


def test_a_wrong_size_alone_is_no_damage_as_for_rpm(tmp_path: Path) -> None:
    """rpm -K ignores the signature's SIZE; a package whose digests match is sound."""
    need_tool("rpm")
    source = next(p for p in all_rpms() if read_rpm(p).signature.get_int(SigTag.SIZE))
    rpm = read_rpm(source)
    size = rpm.signature.get_int(SigTag.SIZE)
    assert size is not None
    data = bytearray(source.read_bytes())
    at = data.index(size.to_bytes(4, "big"), LEAD_SIZE, rpm.header_offset)
    data[at : at + 4] = (size + 8).to_bytes(4, "big")
    odd = tmp_path / "size.rpm"
    odd.write_bytes(bytes(data))
    assert _rpm_k(odd)[0]
    assert package_digests(read_rpm(odd)) == file_digests(odd)


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
