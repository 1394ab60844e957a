"""ALTRepo's hashes (altrepo §0) with its test vectors, and parity with ClickHouse."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from repotrack.rpm import (
    RpmFile,
    changelog_hash,
    header_pkg_hash,
    mmhash,
    mmhash32,
    pkg_hash,
    read_rpm,
)
from tests.unit.rpm.support import own_rpms

MMHASH_VECTORS = {
    "": 0,
    "hello": 10432086992150038043,
    "/usr/bin": 18015308893723861606,
    "30000011x86_64": 4479340413596418052,
    "events30000011": 2350935904024931914,
    "build300000111x86_64": 576880996407654237,
}


@pytest.mark.parametrize(("text", "expected"), MMHASH_VECTORS.items())
def test_mmhash_vectors(text: str, expected: int) -> None:
    assert mmhash(text) == expected
    assert mmhash(text.encode()) == expected
    assert changelog_hash(text) == expected


def test_pkg_hash_vectors() -> None:
    zero = pkg_hash(sha1header=bytes(20), sigmd5=bytes(16), siggpg=b"", buildtime=1600000000)
    assert zero == 2576980378357562977
    assert zero & 0xFFFFFFFF == mmhash32(bytes(36)) == 757562977
    counted = pkg_hash(
        sha1header="0123456789abcdef0123456789abcdef01234567",
        sigmd5=bytes(range(16)),
        siggpg=None,
        buildtime=1600000000,
    )
    assert counted == 2576980379354407728


def test_pkg_hash_concatenates_gpg_parts_and_wraps_old_buildtimes() -> None:
    parts = pkg_hash(sha1header=bytes(20), sigmd5=b"", siggpg=[b"ab", b"cd"], buildtime=1600000000)
    whole = pkg_hash(sha1header=bytes(20), sigmd5=b"", siggpg=b"abcd", buildtime=1600000000)
    assert parts == whole
    old = pkg_hash(sha1header=bytes(20), sigmd5=b"", siggpg=b"", buildtime=999_999_999)
    assert 0 <= old < 2**64
    assert old >> 32 == 0xFFFFFFFF


def test_pkg_hash_of_a_package_uses_its_signature_tags() -> None:
    package: RpmFile = read_rpm(own_rpms()[0])
    merged = package.merged
    expected = pkg_hash(
        sha1header=package.sha1header,
        sigmd5=merged.get(261),
        siggpg=merged.get(262),
        buildtime=merged.get_int(1006) or 0,
    )
    assert package.pkg_hash == expected == header_pkg_hash(merged)
    assert package.pkg_hash >> 32 == 1704067200 - 1_000_000_000  # SOURCE_DATE_EPOCH of the build


def test_mmhash_of_integers_is_over_little_endian_bytes() -> None:
    assert mmhash(1) == mmhash((1).to_bytes(8, "little"))


def test_mmhash_equals_clickhouse_murmurhash3_64() -> None:
    """chDB runs in a child process so that no chDB state leaks into other tests."""
    strings = [*MMHASH_VECTORS, "/usr/share/doc/ünïcödé", "x" * 1000, "a\tb"]
    query = " UNION ALL ".join(
        f"SELECT {i} AS i, toString(murmurHash3_64({_sql_string(s)})) AS h"
        for i, s in enumerate(strings)
    )
    int_query = "SELECT toString(murmurHash3_64(toUInt64(123456789)))"
    script = (
        "import chdb, json, sys\n"
        f"rows = str(chdb.query({query + ' ORDER BY i'!r}, 'TSV')).split()\n"
        f"num = str(chdb.query({int_query!r}, 'TSV')).strip()\n"
        "print(json.dumps([rows, num]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    rows, num = json.loads(done.stdout.strip().splitlines()[-1])
    got = {int(rows[k]): int(rows[k + 1]) for k in range(0, len(rows), 2)}
    assert [got[i] for i in range(len(strings))] == [mmhash(s) for s in strings]
    assert int(num) == mmhash(123456789)


def _sql_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("\t", "\\t")
    return f"'{escaped}'"
