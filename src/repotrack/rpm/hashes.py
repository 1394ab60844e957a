"""ALTRepo's identifiers (altrepo §0): ``mmhash``, ``pkg_hash`` and the changelog hash.

``mmhash`` must equal ClickHouse's ``murmurHash3_64`` for strings, because the store
recomputes the same value in SQL from the stored text (file names, task plans).
"""

from __future__ import annotations

from typing import Final

import mmh3

__all__ = ["PKG_HASH_EPOCH", "changelog_hash", "mmhash", "mmhash32", "pkg_hash"]

#: ``pkg_hash`` keeps ``buildtime - PKG_HASH_EPOCH`` in its high 32 bits.
PKG_HASH_EPOCH: Final = 1_000_000_000
_U32: Final = 0xFFFFFFFF


def mmhash(value: str | bytes | int) -> int:
    """MurmurHash3 x64 128 with seed 0, its two unsigned 64-bit halves XORed.

    A ``str`` is hashed as its UTF-8 bytes (= ClickHouse ``murmurHash3_64(string)``);
    an ``int`` as its 8 little-endian bytes (= ``murmurHash3_64(toUInt64(x))``).
    """
    if isinstance(value, int):
        value = value.to_bytes(8, "little", signed=False)
    low, high = mmh3.hash64(value, 0, signed=False)
    return int(low ^ high)


def mmhash32(value: str | bytes) -> int:
    """MurmurHash3 x86 32 with seed 0, unsigned (the low half of ``pkg_hash``)."""
    return int(mmh3.hash(value, 0, signed=False))


def pkg_hash(
    *,
    sha1header: bytes | str,
    sigmd5: bytes | None,
    siggpg: bytes | list[bytes] | None,
    buildtime: int,
) -> int:
    """ALTRepo's snowflake package id: ``(buildtime - 1e9) << 32 | mmh32(sha1 ‖ md5 ‖ gpg)``.

    ``sha1header`` is the header SHA-1 (tag 269) as 20 bytes or 40 hex digits; ``sigmd5``
    (261) and ``siggpg`` (262) may be empty. The original goes negative (and cannot be
    stored as UInt64) for builds before 2001-09-09; here the high part wraps modulo 2**32
    instead, which gives the same value for every build the original could store.
    """
    sha1 = bytes.fromhex(sha1header) if isinstance(sha1header, str) else sha1header
    gpg = b"".join(siggpg) if isinstance(siggpg, list) else (siggpg or b"")
    low = mmhash32(sha1 + (sigmd5 or b"") + gpg) & _U32
    high = (buildtime - PKG_HASH_EPOCH) & _U32
    return (high << 32) | low


def changelog_hash(text: str) -> int:
    """``chlog_hash``: the mmhash of one changelog entry's text."""
    return mmhash(text)
