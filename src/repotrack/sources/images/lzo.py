"""LZO1X decompression in pure Python, for SquashFS images made with ``-comp lzo``.

Why our own: the ``python-lzo`` binding has no wheels for Linux on PyPI, so it would
make every install need a C compiler and ``liblzo2-dev``, for a compressor few
images use. LZO1X is a byte-oriented format with a small decoder; this one checks
every read and back-reference (the "safe" decoder's checks) and never writes past
``limit``. It is slow next to C (some MiB/s), which is enough for what is read from
such an image: the rpmdb, or a file walk of a small installer image.

The stream is a series of instructions, each one byte that says what follows:

- ``0..15`` after a match: a literal run (length ``3 + t``, or extended by zero
  bytes when ``t == 0``); in the first instruction of a stream a first byte above 17
  is a literal run of ``byte - 17``;
- ``16..31``: a match up to 48 KiB back (``M4``); distance 0 with ``16 | 1`` marks
  the end of the stream;
- ``32..63``: a match up to 16 KiB back (``M3``);
- ``64..255``: a short match up to 2 KiB back (``M2``);
- ``0..15`` right after a match: a two- or three-byte match near the last one (``M1``).

The two low bits of a match's distance byte give the number (0..3) of literals that
follow it before the next instruction.
"""

from __future__ import annotations

__all__ = ["LzoError", "lzo1x_decompress"]

_M2_MAX_OFFSET = 0x0800


class LzoError(ValueError):
    """The data is not a valid LZO1X stream, or decompresses past its limit."""


def lzo1x_decompress(data: bytes, limit: int) -> bytes:
    """Decompress one LZO1X block (no header) of at most ``limit`` bytes."""
    src = memoryview(data)
    end = len(src)
    out = bytearray()
    ip = 0

    def byte() -> int:
        nonlocal ip
        if ip >= end:
            raise LzoError("input overrun")
        value = src[ip]
        ip += 1
        return value

    def run_length(t: int, base: int) -> int:
        """``t`` or, when zero, ``base`` plus 255 per zero byte plus the next byte."""
        nonlocal ip
        if t:
            return t
        t = base
        while True:
            b = byte()
            if b:
                return t + b
            t += 255
            if t > limit:
                raise LzoError("run length past the output limit")

    def literals(n: int) -> None:
        nonlocal ip
        if ip + n > end:
            raise LzoError("input overrun")
        if len(out) + n > limit:
            raise LzoError("output overrun")
        out.extend(src[ip : ip + n])
        ip += n

    def copy_match(distance: int, n: int) -> None:
        start = len(out) - distance
        if start < 0:
            raise LzoError("lookbehind overrun")
        if len(out) + n > limit:
            raise LzoError("output overrun")
        if distance >= n:
            out.extend(out[start : start + n])
            return
        for i in range(n):  # overlapping: a repeated pattern
            out.append(out[start + i])

    t = byte()
    state = 0  # literals copied just before the current instruction (0: a literal run may come)
    if t > 17:
        t -= 17
        literals(t)
        state = 4 if t >= 4 else t
        t = byte()
    while True:
        if t < 16:
            if state == 0:
                # a literal run, then the next instruction (a 3-byte M1 if it is < 16)
                literals(run_length(t, 15) + 3)
                state = 4
                t = byte()
                continue
            if state == 4:
                # a 3-byte match 2..3 KiB back, right after a literal run of 4 or more
                distance = 1 + _M2_MAX_OFFSET + (t >> 2) + (byte() << 2)
                copy_match(distance, 3)
            else:
                distance = 1 + (t >> 2) + (byte() << 2)
                copy_match(distance, 2)
            tail = t & 3
        elif t >= 64:
            distance = 1 + ((t >> 2) & 7) + (byte() << 3)
            copy_match(distance, (t >> 5) + 1)
            tail = t & 3
        elif t >= 32:
            n = run_length(t & 31, 31) + 2
            low, high = byte(), byte()
            copy_match(1 + (low >> 2) + (high << 6), n)
            tail = low & 3
        else:
            far = (t & 8) << 11
            n = run_length(t & 7, 7) + 2
            low, high = byte(), byte()
            distance = far + (low >> 2) + (high << 6)
            if distance == 0:
                if n != 3:
                    raise LzoError("bad end-of-stream marker")
                if ip != end:
                    raise LzoError("input not consumed")
                return bytes(out)
            copy_match(distance + 0x4000, n)
            tail = low & 3
        if tail:
            literals(tail)
        state = tail
        t = byte()
