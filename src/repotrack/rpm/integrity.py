"""A package file's own digests checked, in the same read that computes ``PackageHash``.

rpm records digests of a package inside it (rpm-format §4.1): SHA1HEADER (269),
SHA256HEADER (273) and SHA3-256 (279) of the main header, a digest of the
compressed payload (PAYLOADDIGEST 5092, algorithm in 5093), and, in older packages,
an MD5 (1004) of header and payload with their length (SIZE 1000). ``rpm -K`` checks
them; a loader that skipped them stored damaged packages (a truncated payload, a
flipped header byte) as if they were sound. ``package_digests`` reads the file once
and checks every recorded digest while it computes the whole-file MD5, SHA-256 and
BLAKE2b that ``PackageHash`` keeps.

The MD5 of header and payload costs a second pass over the payload's bytes; it is
checked only where the package records no payload digest (rpm < 4.14), which is
exactly where it is the only thing covering the payload.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from repotrack.errors import InputError
from repotrack.rpm.digests import FileDigests, read_chunks
from repotrack.rpm.tags import SigTag, Tag

if TYPE_CHECKING:
    from repotrack.rpm.package import RpmFile

__all__ = ["package_digests"]

#: OpenPGP hash algorithm ids (RFC 4880 §9.4) as rpm uses them in PAYLOADDIGESTALGO.
_ALGORITHMS: Final[dict[int, str]] = {
    1: "md5",
    2: "sha1",
    8: "sha256",
    9: "sha384",
    10: "sha512",
    11: "sha224",
    12: "sha3_256",
    14: "sha3_512",
}
_HEADER_DIGESTS: Final = (
    (SigTag.SHA1, "sha1", "SHA1HEADER"),
    (SigTag.SHA256, "sha256", "SHA256HEADER"),
    (SigTag.SHA3_256, "sha3_256", "SHA3-256 header digest"),
)


def package_digests(rpm: RpmFile) -> FileDigests:
    """Whole-file digests of ``rpm``'s file, after checking every digest it records.

    Raises InputError naming the file and the digest that does not match.
    """
    source = rpm.path
    _check_header(rpm)
    size = _recorded_size(rpm)
    if size is not None and size != rpm.file_size - rpm.header_offset:
        raise InputError(
            f"damaged package: header and payload are {rpm.file_size - rpm.header_offset} "
            f"bytes, the signature says {size} (truncated or extended file)",
            path=source,
        )
    payload = _payload_digest(rpm)
    legacy_md5 = rpm.signature.get_bytes(SigTag.MD5) if payload is None else None
    md5 = hashlib.md5(usedforsecurity=False)
    sha256 = hashlib.sha256()
    blake = hashlib.blake2b()
    payload_hash = hashlib.new(payload[0]) if payload else None
    signed_md5 = hashlib.md5(usedforsecurity=False) if legacy_md5 else None
    position = 0
    for start, part in read_chunks(source):
        md5.update(part)
        sha256.update(part)
        blake.update(part)
        position = start + len(part)
        if payload_hash is not None:
            _update_from(payload_hash.update, part, start, position, rpm.payload_offset)
        if signed_md5 is not None:
            _update_from(signed_md5.update, part, start, position, rpm.header_offset)
    if position != rpm.file_size:
        raise InputError("the file changed while it was read", path=source)
    if payload is not None and payload_hash is not None:
        algorithm, want = payload
        if payload_hash.hexdigest() != want:
            raise InputError(
                f"damaged package: payload {algorithm.upper()} digest does not match "
                "PAYLOADDIGEST (truncated or altered payload)",
                path=source,
            )
    if signed_md5 is not None and legacy_md5 and signed_md5.digest() != legacy_md5:
        raise InputError(
            "damaged package: MD5 of header and payload does not match the signature",
            path=source,
        )
    return FileDigests(md5.digest(), sha256.digest(), blake.digest())


def _update_from(
    update: Callable[[Any], None], part: memoryview, start: int, end: int, offset: int
) -> None:
    """Feed the bytes of ``part`` (file bytes ``start:end``) that lie at or after ``offset``."""
    if end > offset:
        update(part[max(offset - start, 0) :])


def _check_header(rpm: RpmFile) -> None:
    raw = rpm.header.raw_bytes
    for tag, algorithm, label in _HEADER_DIGESTS:
        want = rpm.signature.get(tag)
        if want is None:
            continue
        if not isinstance(want, str) or hashlib.new(algorithm, raw).hexdigest() != want.lower():
            raise InputError(
                f"damaged package: {label} does not match the header (altered header)",
                path=rpm.path,
            )


def _recorded_size(rpm: RpmFile) -> int | None:
    for tag in (SigTag.LONGSIZE, SigTag.SIZE):
        value = rpm.signature.get_int(tag)
        if value is not None:
            return value
    return None


def _payload_digest(rpm: RpmFile) -> tuple[str, str] | None:
    """``(hashlib name, expected hex)`` of the payload digest the header records."""
    values = rpm.header.get_strings(Tag.PAYLOADDIGEST)
    if not values:
        return None
    algo_id = rpm.header.get_int(Tag.PAYLOADDIGESTALGO)
    algorithm = _ALGORITHMS.get(algo_id if algo_id is not None else 8)
    if algorithm is None:
        raise InputError(
            f"unknown payload digest algorithm {algo_id} (PAYLOADDIGESTALGO)", path=rpm.path
        )
    return algorithm, values[0].lower()
