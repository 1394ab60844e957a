"""The rpm layer's public surface stays sorted, complete and importable."""

from __future__ import annotations

import repotrack.rpm as rpm_layer
from repotrack.rpm import Tag, TagType

EXPECTED_CORE = {
    "Tag", "Header", "RpmFile", "read_rpm", "iter_header_list", "open_compressed", "mmhash",
    "mmhash32", "pkg_hash", "changelog_hash", "rpmvercmp", "compare_evr", "extract_spec",
    "FileDigests", "file_digests",
}  # fmt: skip


def test_all_is_sorted_and_resolvable() -> None:
    assert rpm_layer.__all__ == sorted(rpm_layer.__all__)
    for name in rpm_layer.__all__:
        assert getattr(rpm_layer, name) is not None
    assert set(rpm_layer.__all__) >= EXPECTED_CORE


def test_tag_numbers_the_loader_relies_on() -> None:
    assert (Tag.NAME, Tag.VERSION, Tag.SHA1HEADER, Tag.SIGMD5, Tag.SIGGPG) == (
        1000,
        1001,
        269,
        261,
        262,
    )
    assert (Tag.APTINDEXLEGACYFILENAME, Tag.APTINDEXLEGACYMD5, Tag.APTINDEXLEGACYBLAKE2B) == (
        1000000,
        1000005,
        1000009,
    )
    assert (Tag.FILECLASS, Tag.CLASSDICT, Tag.PAYLOADCOMPRESSOR) == (1141, 1142, 1125)
    assert TagType.I18NSTRING == 9
