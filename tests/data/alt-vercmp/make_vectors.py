"""Write vectors.json from ALT's rpm compiled by make_vectors.sh (see its header).

Two lists, each entry ``[a, b, answer]`` with ALT's answer (-1, 0, 1):

- ``vercmp``: 3 000 version strings (digits, letters, ``.~^_+``, non-ASCII) compared by
  ALT's ``rpmvercmp``; half of them pairs where upstream librpm answers otherwise
  (picked with repotrack's upstream ``rpmvercmp``, itself checked against librpm);
- ``evr``: 1 000 ``[epoch, version, release]`` pairs (epoch or release null when
  absent) compared by ALT's ``rpmEVRDTCompare`` without disttags or build times.
"""

from __future__ import annotations

import ctypes
import json
import os
import random
import sys

from repotrack.rpm import rpmvercmp

library = ctypes.CDLL(os.environ["ALT_EVR_LIBRARY"])
library.rpmvercmp.argtypes = [ctypes.c_char_p, ctypes.c_char_p]


class EVRDT(ctypes.Structure):
    """ALT's ``struct rpmEVRDT`` (lib/rpmlib.h)."""

    _fields_ = [
        ("has_epoch", ctypes.c_int),
        ("epoch", ctypes.c_ulonglong),
        ("version", ctypes.c_char_p),
        ("release", ctypes.c_char_p),
        ("disttag", ctypes.c_char_p),
        ("has_buildtime", ctypes.c_int),
        ("buildtime", ctypes.c_ulonglong),
    ]


library.rpmEVRDTCompare.argtypes = [ctypes.POINTER(EVRDT), ctypes.POINTER(EVRDT)]


def sign(x: int) -> int:
    return (x > 0) - (x < 0)


rng = random.Random(20261207)
PARTS = [*"0123456789", *"abczABZ", *".~^_+", "00", "alt", "rc", "git", "pre", "é"]


def text(low: int = 0, high: int = 7) -> str:
    return "".join(rng.choice(PARTS) for _ in range(rng.randint(low, high)))


def alt_vercmp(a: str, b: str) -> int:
    return sign(library.rpmvercmp(a.encode(), b.encode()))


def version_pairs() -> list[list[object]]:
    differ: list[list[object]] = []
    agree: list[list[object]] = []
    seen: set[tuple[str, str]] = set()
    while len(differ) < 1500 or len(agree) < 1500:
        a = text()
        b = a[: rng.randint(0, len(a))] + text(0, 3) if rng.random() < 0.6 else text()
        if (a, b) in seen:
            continue
        seen.add((a, b))
        answer = alt_vercmp(a, b)
        (differ if answer != rpmvercmp(a, b) else agree).append([a, b, answer])
    pairs = differ[:1500] + agree[:1500]
    rng.shuffle(pairs)
    return pairs


VERSIONS = ["1.0", "1.0.0", "1.0.rc1", "1.0rc1", "2.3a", "2.3.1", "20240101", "git20240101"]
VERSIONS += ["1.0~rc1", "1.0^git1", "1.a", "1.1", "0.9.9", "10", ""]
RELEASES = [None, "alt1", "alt2", "alt0.1", "alt1.1", "alt1.git20200101", "alt1.M80P.1"]
RELEASES += ["alt1_1", "1", ""]
EPOCHS = [None, 0, 1, 2, 10]


def evrdt(epoch: int | None, version: str, release: str | None) -> EVRDT:
    encoded = None if release is None else release.encode()
    return EVRDT(epoch is not None, epoch or 0, version.encode(), encoded, None, 0, 0)


def evr_pairs() -> list[list[object]]:
    pairs: list[list[object]] = []
    while len(pairs) < 1000:
        a = (rng.choice(EPOCHS), rng.choice(VERSIONS), rng.choice(RELEASES))
        epoch = rng.choice(EPOCHS) if rng.random() < 0.5 else a[0]
        b = (epoch, rng.choice(VERSIONS), rng.choice(RELEASES))
        answer = sign(library.rpmEVRDTCompare(ctypes.byref(evrdt(*a)), ctypes.byref(evrdt(*b))))
        pairs.append([list(a), list(b), answer])
    return pairs


json.dump({"vercmp": version_pairs(), "evr": evr_pairs()}, sys.stdout, ensure_ascii=False, indent=0)
