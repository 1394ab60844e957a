"""Malformed packages and header lists raise InputError naming the file and offset.

Each case starts from a real package built by tests/data/make_rpms.sh and breaks one
thing; a fuzz test then flips random bytes and demands InputError or a clean read,
never an IndexError, struct.error, MemoryError or the like.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repotrack.errors import InputError
from repotrack.rpm import Header, extract_spec, iter_header_list, read_rpm
from repotrack.rpm.cpio import CpioReader
from repotrack.rpm.package import read_rpm_stream
from tests.unit.rpm.support import own_rpms

SAMPLE = next(p for p in own_rpms() if p.name.startswith("rt-hello-1.2.3-4.rt1.x86_64"))
SOURCE_SAMPLE = next(p for p in own_rpms() if p.name.startswith("rt-hello-1.2.3-4.rt1.src"))


def _layout() -> tuple[bytes, int, int, int]:
    """The sample's bytes, main-header offset, its index count and its data length."""
    data = SAMPLE.read_bytes()
    package = read_rpm(SAMPLE)
    il, dl = struct.unpack_from(">II", data, package.header_offset + 8)
    return data, package.header_offset, il, dl


def _entry_pos(hdr: int, index: int) -> int:
    return hdr + 16 + 16 * index


def _write(tmp_path: Path, data: bytes | bytearray, name: str = "bad.rpm") -> Path:
    path = tmp_path / name
    path.write_bytes(bytes(data))
    return path


def _set_u32(data: bytearray, pos: int, value: int, fmt: str = ">I") -> None:
    struct.pack_into(fmt, data, pos, value)


Breaker = Callable[[bytearray, int, int, int], None]


def _bad_lead(d: bytearray, hdr: int, il: int, dl: int) -> None:
    d[0:4] = b"\x00\x01\x02\x03"


def _bad_sig_magic(d: bytearray, hdr: int, il: int, dl: int) -> None:
    d[96] = 0


def _bad_main_magic(d: bytearray, hdr: int, il: int, dl: int) -> None:
    d[hdr + 1] = 0


def _huge_nindex(d: bytearray, hdr: int, il: int, dl: int) -> None:
    _set_u32(d, hdr + 8, 0xFFFFFFFF)


def _huge_sig_nindex(d: bytearray, hdr: int, il: int, dl: int) -> None:
    _set_u32(d, 96 + 8, 100000)


def _huge_dl(d: bytearray, hdr: int, il: int, dl: int) -> None:
    _set_u32(d, hdr + 12, 0x7FFFFFFF)


def _dl_past_file(d: bytearray, hdr: int, il: int, dl: int) -> None:
    _set_u32(d, hdr + 12, 0x0FFFFFFF)


def _offset_past_end(d: bytearray, hdr: int, il: int, dl: int) -> None:
    _set_u32(d, _entry_pos(hdr, 3) + 8, dl + 100)


def _negative_offset(d: bytearray, hdr: int, il: int, dl: int) -> None:
    _set_u32(d, _entry_pos(hdr, 3) + 8, -8, ">i")


def _absurd_count(d: bytearray, hdr: int, il: int, dl: int) -> None:
    _set_u32(d, _entry_pos(hdr, 3) + 12, 0xFFFFFFF0)


def _zero_count(d: bytearray, hdr: int, il: int, dl: int) -> None:
    _set_u32(d, _entry_pos(hdr, 3) + 12, 0)


def _bad_type(d: bytearray, hdr: int, il: int, dl: int) -> None:
    _set_u32(d, _entry_pos(hdr, 3) + 4, 42)


def _overlap(d: bytearray, hdr: int, il: int, dl: int) -> None:
    other = struct.unpack_from(">i", d, _entry_pos(hdr, 2) + 8)[0]
    _set_u32(d, _entry_pos(hdr, 3) + 8, other, ">i")


def _broken_region(d: bytearray, hdr: int, il: int, dl: int) -> None:
    _set_u32(d, _entry_pos(hdr, 0) + 8, 0)


def _low_tag(d: bytearray, hdr: int, il: int, dl: int) -> None:
    _set_u32(d, _entry_pos(hdr, 3), 7)


def _unterminated_strings(d: bytearray, hdr: int, il: int, dl: int) -> None:
    data = hdr + 16 + 16 * il
    d[data : data + dl] = d[data : data + dl].replace(b"\0", b"x")


CASES: dict[str, Breaker] = {
    "bad lead magic": _bad_lead,
    "bad signature magic": _bad_sig_magic,
    "bad header magic": _bad_main_magic,
    "huge nindex": _huge_nindex,
    "huge signature nindex": _huge_sig_nindex,
    "huge data length": _huge_dl,
    "data length past the file": _dl_past_file,
    "offset past the end": _offset_past_end,
    "negative offset": _negative_offset,
    "absurd count": _absurd_count,
    "zero count": _zero_count,
    "bad type": _bad_type,
    "overlapping data": _overlap,
    "broken region": _broken_region,
    "illegal tag number": _low_tag,
    "unterminated strings": _unterminated_strings,
}


@pytest.mark.parametrize("breaker", CASES.values(), ids=list(CASES))
def test_malformed_package_is_refused(tmp_path: Path, breaker: Breaker) -> None:
    data, hdr, il, dl = _layout()
    broken = bytearray(data)
    breaker(broken, hdr, il, dl)
    path = _write(tmp_path, broken)
    with pytest.raises(InputError) as caught:
        read_rpm(path)
    assert caught.value.path == str(path)
    assert caught.value.offset is not None
    assert str(path) in str(caught.value)
    assert f"offset {caught.value.offset}" in str(caught.value)


@pytest.mark.parametrize("cut", [0, 10, 95, 100, 200, -1])
def test_truncated_package_is_refused(tmp_path: Path, cut: int) -> None:
    data, hdr, il, dl = _layout()
    end = hdr + 16 + 16 * il + dl - 1 if cut == -1 else cut
    path = _write(tmp_path, data[:end])
    with pytest.raises(InputError, match=r"truncated|not an RPM") as caught:
        read_rpm(path)
    assert caught.value.offset is not None


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        read_rpm(tmp_path / "absent.rpm")


def test_truncated_payload_fails_spec_extraction(tmp_path: Path) -> None:
    data = SOURCE_SAMPLE.read_bytes()
    package = read_rpm(SOURCE_SAMPLE)
    path = _write(tmp_path, data[: package.payload_offset + 200], "cut.src.rpm")
    with pytest.raises(InputError) as caught:
        extract_spec(path)
    assert caught.value.path == str(path)


def _header_list() -> bytes:
    return b"".join(read_rpm(p).header.raw_bytes for p in own_rpms()[:3])


def test_truncated_header_list(tmp_path: Path) -> None:
    blob = _header_list()
    first = len(read_rpm(own_rpms()[0]).header.raw_bytes)
    for cut in (len(blob) - 1, first + 5, first + 20):
        with pytest.raises(InputError, match="truncated") as caught:
            list(iter_header_list(io.BytesIO(blob[:cut]), source="pkglist.test"))
        assert caught.value.path == "pkglist.test"
        assert caught.value.offset is not None and caught.value.offset >= first


def test_garbage_after_header_list() -> None:
    blob = _header_list() + b"\x00" * 16
    with pytest.raises(InputError, match="magic") as caught:
        list(iter_header_list(io.BytesIO(blob), source="pkglist.test"))
    assert caught.value.offset == len(blob) - 16


def _touch_everything(header: Header) -> None:
    for tag in header.tags():
        header.get(tag)
        header.get_bytes(tag)
        header.get_raw_strings(tag)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=6))
def test_random_corruption_gives_input_error_or_a_clean_read(flips: list[tuple[int, int]]) -> None:
    data, hdr, il, dl = _layout()
    end = hdr + 16 + 16 * il + dl
    broken = bytearray(data[:end])
    for pos, value in flips:
        broken[pos % end] = value
    stream = io.BytesIO(bytes(broken))
    try:
        package = read_rpm_stream(stream, source="fuzz.rpm", file_size=len(broken))
    except InputError as exc:
        assert exc.path == "fuzz.rpm"
        return
    _touch_everything(package.signature)
    _touch_everything(package.header)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400), st.integers(0, 3))
def test_random_header_list_bytes(noise: bytes, keep: int) -> None:
    """A real header list followed or interrupted by noise: InputError or clean headers."""
    blob = _header_list()[: keep * 300] + noise
    try:
        for header in iter_header_list(io.BytesIO(blob), source="fuzz.list"):
            _touch_everything(header)
    except InputError as exc:
        assert exc.path == "fuzz.list"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_random_cpio_bytes(noise: bytes) -> None:
    reader = CpioReader(io.BytesIO(b"070701" + noise), source="fuzz.cpio")
    try:
        while reader.next() is not None:
            reader.read(1 << 20)
    except InputError as exc:
        assert exc.path == "fuzz.cpio"
