"""Mutation fuzzing of package files: nothing but ``InputError`` ever escapes.

Every function a loader calls on a package file (identify, read, check digests,
extract the spec, walk the payload, build rows) runs on mutated copies of real
packages: bit flips, byte runs, cuts and insertions in the lead, the headers and the
payload. The case count is bounded and seeded, so the suite is repeatable.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from repotrack.errors import InputError
from repotrack.ingest.reader import PackageJob, read_package
from repotrack.rpm import extract_spec, quick_pkg_hash, read_rpm
from repotrack.rpm.integrity import package_digests
from repotrack.rpm.payload import iter_payload
from tests.unit.rpm.support import all_rpms

CASES = 300


def _mutate(rng: random.Random, data: bytes, header_at: int, payload_at: int) -> bytes:
    out = bytearray(data)
    region = rng.choice(["lead", "signature", "header", "payload", "payload", "anywhere"])
    bounds = {
        "lead": (0, 96),
        "signature": (96, header_at),
        "header": (header_at, payload_at),
        "payload": (payload_at, len(out)),
        "anywhere": (0, len(out)),
    }[region]
    low, high = bounds if bounds[1] > bounds[0] else (0, len(out))
    for _ in range(rng.randint(1, 4)):
        action = rng.choice(["flip", "byte", "run", "cut", "insert"])
        at = rng.randrange(low, max(high, low + 1)) if len(out) else 0
        if action == "flip" and at < len(out):
            out[at] ^= 1 << rng.randrange(8)
        elif action == "byte" and at < len(out):
            out[at] = rng.choice([0, 0xFF, 0x7F, 0x80, rng.randrange(256)])
        elif action == "run":
            out[at : at + 8] = bytes(rng.randrange(256) for _ in range(8))
        elif action == "cut":
            del out[at:]
        else:
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    return bytes(out)


def _exercise(path: Path) -> None:
    quick_pkg_hash(path)
    rpm = read_rpm(path)
    package_digests(rpm)
    extract_spec(rpm)
    for _entry, _data in iter_payload(rpm, lambda _e: True, max_bytes=1 << 22):
        pass
    read_package(PackageJob(filename=path.name, source=rpm.is_source, node="n", path=str(path)))


@pytest.mark.parametrize("seed", range(3))
def test_mutated_packages_raise_only_input_errors(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    packages = [p for p in all_rpms() if p.stat().st_size < 2 << 20]
    outcomes = {"refused": 0, "accepted": 0}
    for case in range(CASES // 3):
        source = rng.choice(packages)
        rpm = read_rpm(source)
        path = tmp_path / f"fuzz{case}.rpm"
        path.write_bytes(_mutate(rng, source.read_bytes(), rpm.header_offset, rpm.payload_offset))
        try:
            _exercise(path)
            outcomes["accepted"] += 1
        except InputError as exc:
            assert exc.path == str(path), exc
            outcomes["refused"] += 1
        # Any other exception fails the test with its traceback.
    assert outcomes["refused"] > outcomes["accepted"]


def test_a_corrupt_gzip_payload_is_an_input_error(tmp_path: Path) -> None:
    """The case that escaped as ``zlib.error``: a damaged deflate stream in a source RPM."""
    source = next(p for p in all_rpms() if p.name == "rt-bz-0.1-0.1.20240101git.src.rpm")
    rpm = read_rpm(source)
    data = bytearray(source.read_bytes())
    for offset in range(rpm.payload_offset + 12, len(data) - 8, 7):
        data[offset] ^= 0x55
    path = tmp_path / "bad-gzip.src.rpm"
    path.write_bytes(bytes(data))
    with pytest.raises(InputError) as caught:
        extract_spec(path)
    assert caught.value.path == str(path)
