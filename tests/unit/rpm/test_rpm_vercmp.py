"""rpmvercmp and EVR comparison agree with librpm.

Three sources of truth: the 4489 librpm-generated vectors in the shared fixtures, the
documented cases of rpm-format.md §10, and thousands of generated pairs that the real
``rpm`` compares in one batch (a Lua script run by ``rpm --eval``).
"""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from repotrack.rpm import compare_evr, parse_evr, rpmvercmp
from tests.conftest import need_fixtures, need_librpm_python, need_tool
from tests.unit.rpm.support import RPM_ENV

# (a, b, expected) from rpm-format.md §10 and rpm's tests/rpmvercmp.at.
DOCUMENTED = [
    ("1.0", "1_0", 0), ("1.0", "1..0", 0), ("1.0", "1.0.", 0), ("10.0001", "10.1", 0),
    ("1.0", "1.0.1", -1), ("2.0.1a", "2.0.1", 1), ("1.0a", "1.0.1", -1), ("xyz.4", "8", -1),
    ("5.5p1", "5.5p10", -1), ("6.0.rc1", "6.0", 1), ("1.0~rc1", "1.0", -1),
    ("1.0~rc1~git", "1.0~rc1", -1), ("1.0^", "1.0", 1), ("1.0^git1", "1.01", -1),
    ("1.0^20160101", "1.0.1", -1), ("1.0~rc1^git1", "1.0~rc1", 1),
    ("1.0^git1~pre", "1.0^git1", -1), ("", "0", -1), ("", "~", 1), ("1b.fc17", "1.fc17", -1),
    ("1g.fc17", "1.fc17", 1), ("1.1.α", "1.1.β", 0), ("a", "A", 1),
    ("1" + "0" * 40, "9" * 39, 1), ("0" * 30 + "1", "1", 0),
]  # fmt: skip

# Generated versions avoid "-" and ":": rpm's Lua rpm.vercmp parses its arguments as
# E:V-R (rpm >= 4.16), which for strings without them is exactly rpmvercmp.
ALPHABET = "0123456789" * 3 + "abcxyzABZ" + "..,_+=~~^^" + "éα"


@pytest.mark.parametrize(("a", "b", "expected"), DOCUMENTED)
def test_documented_cases(a: str, b: str, expected: int) -> None:
    assert rpmvercmp(a, b) == expected
    assert rpmvercmp(b, a) == -expected


def test_librpm_vectors_from_fixtures() -> None:
    vectors = json.loads(need_fixtures("rpm", "vercmp", "vercmp.json").read_text())
    wrong = [v for v in vectors if rpmvercmp(v["a"], v["b"]) != v["expect"]]
    assert len(vectors) > 4000
    assert not wrong


def _random_version(rng: random.Random) -> str:
    """A non-empty version (rpm's Lua API refuses empty ones)."""
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 9)))


def _mutate(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 2)):
        pos = rng.randint(0, len(chars))
        if chars and rng.random() < 0.5:
            del chars[min(pos, len(chars) - 1)]
        else:
            chars.insert(pos, rng.choice(ALPHABET))
    return "".join(chars) or "0"


def _generated_pairs(count: int) -> list[tuple[str, str]]:
    rng = random.Random(20240101)
    pairs = []
    for _ in range(count):
        a = _random_version(rng)
        b = _mutate(rng, a) if rng.random() < 0.6 else _random_version(rng)
        pairs.append((a, b))
    return pairs


def _lua_string(text: str) -> str:
    return '"' + "".join(f"\\x{byte:02x}" for byte in text.encode()) + '"'


def _run_lua(tmp_path: Path, body: str, pairs: list[tuple[str, str]]) -> list[int]:
    """Run ``body`` (using locals a, b) for every pair inside one ``rpm --eval``."""
    table = ",\n".join(f"{{{_lua_string(a)}, {_lua_string(b)}}}" for a, b in pairs)
    script = tmp_path / "cmp.lua"
    script.write_text(
        f"local pairs_ = {{\n{table}\n}}\n"
        "for _, p in ipairs(pairs_) do\n"
        "  local a, b = p[1], p[2]\n"
        f"  {body}\n"
        "end\n"
    )
    done = subprocess.run(
        ["rpm", "--eval", f'%{{lua: dofile("{script}")}}'],
        capture_output=True,
        text=True,
        check=True,
        env=RPM_ENV,
    )
    results = [int(x) for x in done.stdout.split()]
    assert len(results) == len(pairs)
    return results


def test_generated_pairs_agree_with_rpm(tmp_path: Path) -> None:
    need_tool("rpm")
    pairs = _generated_pairs(5000)
    expected = _run_lua(tmp_path, 'io.write(rpm.vercmp(a, b), "\\n")', pairs)
    wrong = [(a, b, e) for (a, b), e in zip(pairs, expected, strict=True) if rpmvercmp(a, b) != e]
    assert not wrong, wrong[:10]


def _random_evr(rng: random.Random) -> str:
    epoch = rng.choice(["", "0:", "1:", "2:", "01:", ":"])
    release = rng.choice(["", "-1", "-1.fc40", "-0.rc1", "-2~beta"])
    return epoch + _random_version(rng) + release


def test_evr_comparison_agrees_with_rpm_ver(tmp_path: Path) -> None:
    need_tool("rpm")
    rng = random.Random(7)
    pairs = [(_random_evr(rng), _random_evr(rng)) for _ in range(2000)]
    pairs += [("1.0", "1.0-1"), ("0:1.0-1", "1.0-1"), ("1:1.0", "2.0"), ("01:1-1", "1:1-1")]
    body = (
        "local x, y = rpm.ver(a), rpm.ver(b)\n"
        '  io.write((x < y) and -1 or ((x == y) and 0 or 1), "\\n")'
    )
    expected = _run_lua(tmp_path, body, pairs)
    wrong = []
    for (a, b), e in zip(pairs, expected, strict=True):
        if compare_evr(parse_evr(a), parse_evr(b)) != e:
            wrong.append((a, b, e))
    assert not wrong, wrong[:10]


def test_parse_evr() -> None:
    assert parse_evr("1:2.0-3") == ("1", "2.0", "3")
    assert parse_evr("2.0-3-4") == (None, "2.0-3", "4")
    assert parse_evr("2.0") == (None, "2.0", None)
    assert parse_evr(":2.0") == ("0", "2.0", None)
    assert parse_evr("a:2.0-1") == (None, "a:2.0", "1")


def test_compare_evr_missing_parts() -> None:
    assert compare_evr((None, "1.0", "1"), (0, "1.0", "1")) == 0
    assert compare_evr((1, "1.0", "1"), (None, "9.0", "1")) == 1
    assert compare_evr((None, "1.0", None), (None, "1.0", "1")) == -1
    assert compare_evr((None, "1.0", None), (None, "1.0", None)) == 0
    assert compare_evr(("01", "1", "1"), (1, "1", "1")) == 0


versions = st.text(alphabet=st.sampled_from([*ALPHABET, "-", ":", "ß", "\u0663"]), max_size=12)


@given(versions, versions)
def test_antisymmetric(a: str, b: str) -> None:
    assert rpmvercmp(a, b) == -rpmvercmp(b, a)


@given(versions)
def test_reflexive(a: str) -> None:
    assert rpmvercmp(a, a) == 0
    assert rpmvercmp(a + ".", a) == 0  # trailing separators are ignored


@given(versions, versions, versions)
def test_transitive(a: str, b: str, c: str) -> None:
    if rpmvercmp(a, b) <= 0 and rpmvercmp(b, c) <= 0:
        assert rpmvercmp(a, c) <= 0


_LABEL_COMPARE = """
import json, sys, rpm
pairs = json.load(sys.stdin)
print(json.dumps([rpm.labelCompare(tuple(a), tuple(b)) for a, b in pairs]))
"""


def test_compare_evr_agrees_with_label_compare_on_missing_and_empty_parts() -> None:
    """``rpm.labelCompare`` (librpm's Python binding) on every mix of absent and empty parts.

    An absent epoch is "0" but an empty one is "", which sorts before "0"; an absent
    release sorts before an empty one, which sorts before any other.
    """
    import json
    import subprocess

    system_python = need_librpm_python()
    epochs = [None, "", "0", "1", "01", "10"]
    versions = ["1", "1.0", "a", "1.0a"]
    releases = [None, "", "1", "alt1"]
    evrs = [(e, v, r) for e in epochs for v in versions for r in releases]
    pairs = [(a, b) for a in evrs for b in evrs]
    done = subprocess.run(
        [str(system_python), "-c", _LABEL_COMPARE],
        input=json.dumps(pairs),
        capture_output=True,
        text=True,
        check=True,
    )
    expected = json.loads(done.stdout)
    wrong = [(a, b, e) for (a, b), e in zip(pairs, expected, strict=True) if compare_evr(a, b) != e]
    assert not wrong, wrong[:10]
    assert compare_evr(("", "1", "1"), ("0", "1", "1")) == -1
