"""Whole-image digests in one read: MD5, SHA-256 and GOST R 34.11-2012 (256 bit).

ALTRepo keeps all three in the image's package-set kv (``md5_cs``, ``sha256_cs``,
``gost12_cs``; altrepo §4.2). An image may be gigabytes, so it is read once, in
chunks, and every chunk goes to each digest. GOST (Streebog) has no fast
implementation in Python's standard library; the chunks are piped into
``gost12sum`` (Debian ``gostsum``, the tool the original used) while the same
loop feeds hashlib, so the file is still read only once. Without ``gost12sum`` on
PATH the GOST digest is left empty and a warning says so.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from repotrack.errors import InputError

__all__ = ["CHUNK", "ImageDigests", "image_digests"]

log = logging.getLogger(__name__)

#: Bytes read at a time: large enough for speed, small enough for a flat memory profile.
CHUNK = 1 << 20
GOST_TOOL = "gost12sum"


@dataclass(frozen=True, slots=True)
class ImageDigests:
    """Lowercase hex digests of one file; ``gost12`` is ``""`` when it could not be computed."""

    md5: str
    sha256: str
    gost12: str
    size: int


class _Gost:
    """A ``gost12sum`` process reading stdin; ``None``-safe when the tool is missing."""

    def __init__(self) -> None:
        tool = shutil.which(GOST_TOOL)
        self._proc: subprocess.Popen[bytes] | None = None
        if tool is None:
            log.warning("gost12sum not found: GOST R 34.11-2012 digest left empty")
            return
        self._proc = subprocess.Popen(
            [tool], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )

    @property
    def stdin(self) -> IO[bytes] | None:
        return self._proc.stdin if self._proc is not None else None

    def finish(self) -> str:
        if self._proc is None:
            return ""
        out, _ = self._proc.communicate()
        if self._proc.returncode != 0:
            log.warning("gost12sum failed: GOST digest left empty")
            return ""
        return out.split()[0].decode("ascii").lower() if out.split() else ""

    def kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()


def image_digests(path: Path, on_chunk: Callable[[], None] | None = None) -> ImageDigests:
    """MD5, SHA-256 and GOST-256 of ``path``, read once; raises InputError if unreadable.

    ``on_chunk`` is called after each ``CHUNK`` bytes (a progress report, and where a
    load that was asked to stop raises).
    """
    md5 = hashlib.md5(usedforsecurity=False)
    sha256 = hashlib.sha256()
    gost = _Gost()
    size = 0
    try:
        with path.open("rb") as f:
            while chunk := f.read(CHUNK):
                md5.update(chunk)
                sha256.update(chunk)
                if gost.stdin is not None:
                    gost.stdin.write(chunk)
                size += len(chunk)
                if on_chunk is not None:
                    on_chunk()
        gost_hex = gost.finish()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=str(path)) from exc
    finally:
        gost.kill()
    return ImageDigests(md5=md5.hexdigest(), sha256=sha256.hexdigest(), gost12=gost_hex, size=size)
