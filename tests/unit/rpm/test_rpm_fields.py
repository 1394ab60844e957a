"""Every stored header field of every fixture RPM equals what the real ``rpm -qp`` prints.

One ``rpm -qp --queryformat`` call per package prints all fields, separated by control
characters that never occur in headers; our reader must agree field by field. The
fields are the ALTRepo ``Packages`` columns that come from the header, the file arrays,
the four dependency triplets with their flags, and the changelog.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from repotrack.rpm import Header, Tag, file_paths, read_rpm
from tests.conftest import need_tool
from tests.unit.rpm.support import all_rpms, rpm_id, run_rpm, text

FIELD = "\x1d"
ITEM = "\x1e"

# Single-valued tags (rpm prints "(none)" when absent). I18N tags print the "C" string.
SCALARS = (
    "NAME", "VERSION", "RELEASE", "EPOCH", "ARCH", "OS", "SUMMARY", "DESCRIPTION",
    "BUILDTIME", "BUILDHOST", "SIZE", "DISTRIBUTION", "VENDOR", "LICENSE", "PACKAGER",
    "GROUP", "URL", "SOURCERPM", "ARCHIVESIZE", "RPMVERSION", "COOKIE", "DISTTAG",
    "OPTFLAGS", "DISTURL", "PAYLOADFORMAT", "PAYLOADCOMPRESSOR", "PAYLOADFLAGS",
    "PLATFORM", "PREIN", "POSTIN", "PREUN", "POSTUN", "VERIFYSCRIPT", "SHA1HEADER",
    "SIGMD5", "SIGGPG", "GIF", "XPM", "ICON", "LONGSIZE", "FILEDIGESTALGO", "BUGURL",
)  # fmt: skip
# Array tags (rpm prints nothing when absent).
ARRAYS = (
    "PREINPROG", "POSTINPROG", "PREUNPROG", "POSTUNPROG", "VERIFYSCRIPTPROG",
    "BUILDARCHS", "PREFIXES", "INSTPREFIXES",
    "BASENAMES", "DIRNAMES", "DIRINDEXES", "OLDFILENAMES", "FILESIZES", "LONGFILESIZES",
    "FILEMODES", "FILERDEVS", "FILEMTIMES", "FILEDIGESTS", "FILELINKTOS", "FILEFLAGS",
    "FILEUSERNAME", "FILEGROUPNAME", "FILEVERIFYFLAGS", "FILEDEVICES", "FILEINODES",
    "FILELANGS", "FILECOLORS", "FILECLASS", "CLASSDICT",
    "PROVIDENAME", "PROVIDEFLAGS", "PROVIDEVERSION",
    "REQUIRENAME", "REQUIREFLAGS", "REQUIREVERSION",
    "CONFLICTNAME", "CONFLICTFLAGS", "CONFLICTVERSION",
    "OBSOLETENAME", "OBSOLETEFLAGS", "OBSOLETEVERSION",
    "CHANGELOGTIME", "CHANGELOGNAME", "CHANGELOGTEXT",
)  # fmt: skip
# rpm fills these in on read for old packages ("retrofits"); we compare them separately.
RETROFITTED = {"BASENAMES", "DIRNAMES", "DIRINDEXES", "OLDFILENAMES", "PROVIDENAME",
               "PROVIDEFLAGS", "PROVIDEVERSION", "FILECLASS"}  # fmt: skip

QUERYFORMAT = (
    FIELD.join(f"%{{{t}}}" for t in SCALARS)
    + FIELD
    + FIELD.join(f"[%{{{t}}}{ITEM}]" for t in ARRAYS)
    + FIELD
    + f"[%{{FILENAMES}}{ITEM}]"
)

RPMS = all_rpms()


def rpm_fields(path: Path) -> dict[str, str | list[str] | None]:
    out = run_rpm("-qp", "--nosignature", "--nodigest", "--queryformat", QUERYFORMAT, str(path))
    parts = out.split(FIELD.encode())
    assert len(parts) == len(SCALARS) + len(ARRAYS) + 1
    fields: dict[str, str | list[str] | None] = {}
    for name, raw in zip(SCALARS, parts, strict=False):
        fields[name] = None if raw == b"(none)" else text(raw)
    for name, raw in zip((*ARRAYS, "FILENAMES"), parts[len(SCALARS) :], strict=True):
        fields[name] = [text(x) for x in raw.split(ITEM.encode())[:-1]]
    return fields


def ours_scalar(header: Header, name: str) -> str | None:
    if name == "LONGSIZE":  # rpm shows SIZE when there is no LONGSIZE
        return (
            ours_scalar(header, "LONGSIZE_")
            if Tag.LONGSIZE in header
            else ours_scalar(header, "SIZE")
        )
    tag = Tag[name.rstrip("_")]
    value = header.get(tag)
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list):
        return " ".join(str(v) for v in value) if len(value) != 1 else str(value[0])
    return str(value)


def ours_array(header: Header, name: str) -> list[str]:
    if name == "LONGFILESIZES" and Tag.LONGFILESIZES not in header:
        name = "FILESIZES"  # rpm shows FILESIZES when there is no LONGFILESIZES
    tag = Tag[name]
    kind = header.type_of(tag)
    if kind is None:
        return []
    if name == "FILECLASS":
        # rpm describes symlinks (empty class) by their target, as file(1) would.
        classes = header.get_strings(Tag.CLASSDICT)
        links = header.get_strings(Tag.FILELINKTOS)
        return [
            classes[i] or (f"symbolic link to `{link}'" if link else "")
            for i, link in zip(header.get_ints(tag), links, strict=True)
        ]
    if kind in (6, 8, 9):
        return header.get_strings(tag)
    return [str(v) for v in header.get_ints(tag)]


@pytest.mark.parametrize("path", RPMS, ids=[rpm_id(p) for p in RPMS])
def test_fields_match_rpm(path: Path) -> None:
    need_tool("rpm")
    expected = rpm_fields(path)
    package = read_rpm(path)
    merged = package.merged
    mismatches = []
    for name in SCALARS:
        got = ours_scalar(merged, name)
        if name == "SHA1HEADER" and got is None:
            got = package.sha1header.hex()  # rpm >= 6 packages carry only SHA-256
            if expected[name] is None:
                continue
        if got != expected[name]:
            mismatches.append((name, got, expected[name]))
    for name in ARRAYS:
        got_list = ours_array(merged, name)
        if name in RETROFITTED and got_list != expected[name] and not got_list:
            # rpm synthesises these for packages without them (FILECLASS from the mode or
            # the v6 MIME dictionary, BASENAMES from OLDFILENAMES); FILENAMES is compared.
            continue
        if got_list != expected[name]:
            mismatches.append((name, got_list[:5], expected[name][:5]))  # type: ignore[index]
    paths = file_paths(merged)
    if paths != expected["FILENAMES"]:
        mismatches.append(("FILENAMES", paths[:5], expected["FILENAMES"]))
    assert not mismatches, mismatches


@pytest.mark.parametrize("path", RPMS, ids=[rpm_id(p) for p in RPMS])
def test_source_detection_matches_rpm(path: Path) -> None:
    need_tool("rpm")
    out = run_rpm(
        "-qp", "--nosignature", "--nodigest", "--queryformat", "%{SOURCEPACKAGE}", str(path)
    )
    assert read_rpm(path).is_source == (out == b"1")


@pytest.mark.parametrize("path", RPMS, ids=[rpm_id(p) for p in RPMS])
def test_sha1header_is_the_digest_of_the_header_bytes(path: Path) -> None:
    package = read_rpm(path)
    assert package.sha1header == package.computed_sha1header()
    assert package.payload_offset <= package.file_size
