"""The sortable version key agrees with librpm, with repotrack.rpm.vercmp and with ALT's rule.

librpm is asked through Debian's python3-rpm (``rpm.labelCompare``) on thousands of
generated pairs in one batch; ALT's order (letters newer than digits, no caret) is
checked against a character-by-character transcription of ALT's rpmvercmp written here.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from repotrack.rpm import rpmvercmp
from repotrack.rpm.verkey import VersionOrder, evr_key, version_key
from tests.unit.rpm.librpm import label_compare

ALPHABET = "0123456789" * 3 + "abcxyzABZ" + "..,_+=~~^^" + "éα"


def sign(a: bytes, b: bytes) -> int:
    return (a > b) - (a < b)


def _random_version(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 9)))


def _pairs(seed: int, count: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        a = _random_version(rng)
        b = a if rng.random() < 0.5 else _random_version(rng)
        if b == a:  # a near neighbour: one or two characters changed
            chars = list(a)
            pos = rng.randrange(len(chars) + 1)
            chars.insert(pos, rng.choice(ALPHABET))
            b = "".join(chars)
        out.append((a, b))
    return out


def test_version_keys_agree_with_librpm_on_generated_pairs() -> None:
    pairs = _pairs(13, 4000)
    expected = label_compare([(("0", a, "1"), ("0", b, "1")) for a, b in pairs])
    wrong = [
        (a, b, want)
        for (a, b), want in zip(pairs, expected, strict=True)
        if sign(version_key(a), version_key(b)) != want
    ]
    assert not wrong[:20]


def test_evr_keys_agree_with_librpm_including_epochs_and_missing_releases() -> None:
    rng = random.Random(7)
    epochs: list[str | None] = [None, "", "0", "1", "01", "10", "2"]
    releases: list[str | None] = [None, "", "1", "alt1", "1~rc", "0.1"]
    triples = [(rng.choice(epochs), _random_version(rng), rng.choice(releases)) for _ in range(600)]
    pairs = [(rng.choice(triples), rng.choice(triples)) for _ in range(3000)]
    expected = label_compare(pairs)
    wrong = [
        (a, b, want)
        for (a, b), want in zip(pairs, expected, strict=True)
        if sign(evr_key(*a), evr_key(*b)) != want
    ]
    assert not wrong[:20]


@given(st.text(alphabet=ALPHABET, max_size=10), st.text(alphabet=ALPHABET, max_size=10))
def test_version_keys_agree_with_repotrack_vercmp(a: str, b: str) -> None:
    assert sign(version_key(a), version_key(b)) == rpmvercmp(a, b)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("1.0~rc1", "1.0", -1),  # tilde before the end
        ("1.0^git1", "1.0", 1),  # caret after the end
        ("1.0^git1", "1.0.1", -1),  # ... but before any further segment
        ("", "~", 1),
        ("10.0001", "10.1", 0),  # leading zeros ignored
        ("1" + "0" * 300, "9" * 299, 1),  # long numbers keep their order
        ("1.a", "1.1", -1),  # upstream: digits beat letters
    ],
)
def test_documented_cases(a: str, b: str, expected: int) -> None:
    assert sign(version_key(a), version_key(b)) == expected


# -- ALT's order ----------------------------------------------------------------------


def alt_rpmvercmp(a: str, b: str) -> int:
    """ALT's rpmvercmp, one character at a time: letters beat digits, ``^`` is a separator."""
    if a == b:
        return 0
    i = j = 0

    def alnum(c: str) -> bool:
        return c.isascii() and c.isalnum()

    while i < len(a) or j < len(b):
        while i < len(a) and not alnum(a[i]) and a[i] != "~":
            i += 1
        while j < len(b) and not alnum(b[j]) and b[j] != "~":
            j += 1
        ca = a[i] if i < len(a) else ""
        cb = b[j] if j < len(b) else ""
        if ca == "~" or cb == "~":
            if ca != "~":
                return 1
            if cb != "~":
                return -1
            i, j = i + 1, j + 1
            continue
        if not ca or not cb:
            break
        digits = ca.isdigit()
        si = i
        while i < len(a) and (a[i].isdigit() if digits else a[i].isascii() and a[i].isalpha()):
            i += 1
        sj = j
        while j < len(b) and (b[j].isdigit() if digits else b[j].isascii() and b[j].isalpha()):
            j += 1
        x, y = a[si:i], b[sj:j]
        if not y:
            return -1 if digits else 1  # ALT: the letter segment is the newer one
        if digits:
            x, y = x.lstrip("0"), y.lstrip("0")
            if len(x) != len(y):
                return 1 if len(x) > len(y) else -1
        if x != y:
            return 1 if x > y else -1
    if i >= len(a) and j >= len(b):
        return 0
    return -1 if i >= len(a) else 1


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [("1.a", "1.1", 1), ("xyz.4", "8", 1), ("10xyz", "10.1xyz", 1), ("1.0^git", "1.0.git", 0)],
)
def test_alt_documented_cases(a: str, b: str, expected: int) -> None:
    assert alt_rpmvercmp(a, b) == expected
    assert sign(version_key(a, VersionOrder.ALT), version_key(b, VersionOrder.ALT)) == expected


@given(st.text(alphabet=ALPHABET, max_size=10), st.text(alphabet=ALPHABET, max_size=10))
def test_alt_keys_agree_with_alt_rpmvercmp(a: str, b: str) -> None:
    got = sign(version_key(a, VersionOrder.ALT), version_key(b, VersionOrder.ALT))
    assert got == alt_rpmvercmp(a, b)
