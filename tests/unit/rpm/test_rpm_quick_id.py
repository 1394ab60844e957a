"""``quick_pkg_hash``: the id a reload dedupes by, read without parsing the main header."""

from __future__ import annotations

from pathlib import Path

import pytest

from repotrack.errors import InputError
from repotrack.rpm import quick_pkg_hash, read_rpm
from tests.unit.rpm.support import all_rpms, own_rpms, rpm_id


@pytest.mark.parametrize("path", all_rpms(), ids=rpm_id)
def test_same_id_as_the_full_read(path: Path) -> None:
    rpm = read_rpm(path)
    quick = quick_pkg_hash(path)
    if quick is None:  # declined (no SHA1 in the signature, or main-header copies)
        assert 269 not in rpm.signature or {261, 262, 269} & set(rpm.header)
        return
    assert quick == (rpm.pkg_hash, rpm.sha1header)


def test_used_for_every_own_package() -> None:
    """Our own RPMs are ordinary ones: the shortcut must apply to all of them."""
    assert all(quick_pkg_hash(p) is not None for p in own_rpms())


@pytest.mark.parametrize("keep", [10, 100, 400])
def test_truncated_file_is_an_input_error(tmp_path: Path, keep: int) -> None:
    source = own_rpms()[0]
    bad = tmp_path / "cut.rpm"
    bad.write_bytes(source.read_bytes()[:keep])
    with pytest.raises(InputError, match="truncated RPM") as caught:
        quick_pkg_hash(bad)
    assert caught.value.path == str(bad)


def test_not_an_rpm(tmp_path: Path) -> None:
    bad = tmp_path / "x.rpm"
    bad.write_bytes(b"\0" * 4096)
    with pytest.raises(InputError, match="not an RPM package"):
        quick_pkg_hash(bad)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        quick_pkg_hash(tmp_path / "absent.rpm")
