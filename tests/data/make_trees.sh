#!/bin/sh
# Build two repository trees from a directory of RPMs (default: tests/data/rpms/):
#
#   OUT/apt/         an ALT apt-rpm "date" snapshot (ALTRepo spec section 2.2):
#                    <arch>/base/{release,pkglist.classic.xz,srclist.classic.xz},
#                    <arch>/RPMS.classic/ (symlinks into files/), files/SRPMS/,
#                    files/<arch>/RPMS/, files/list/{task.info,<arch>.hash.xz,src.hash.xz}
#   OUT/createrepo/  the same RPMs with createrepo_c metadata in repodata/
#
# The header lists are written here the way ALT's genpkglist and gensrclist write them
# (apt-repo-tools 0.6.0.20, svpv/apt-repo-tools 0c62152), which Debian does not ship:
# each entry a bare header (magic, no lead, no signature, no region tag; index sorted
# by tag, data in that order, aligned to each type's width), holding the package's
# own NAME, EPOCH, VERSION, RELEASE, GROUP, ARCH, PACKAGER, SIZE, VENDOR, DESCRIPTION,
# SUMMARY, the i18n table and REQUIRE* entries as the file has them (binaries also
# SOURCERPM, BUILDTIME, PROVIDE*, CONFLICT*, OBSOLETE*), then apt's own tags
# CRPMTAG_DIRECTORY (1000010: RPMS.classic, ../SRPMS.classic), CRPMTAG_FILENAME
# (1000000), CRPMTAG_FILESIZE (1000001, INT32) and CRPMTAG_MD5 (1000005, hex), plus
# CRPMTAG_BLAKE2B (1000009, hex), which ALT's later versions add. A pkglist is sorted
# by (SOURCERPM, file name) and its file lists are stripped to genpkglist's "useful"
# files (under a bin/ or sbin/ directory, /usr/games, jars, fonts, lib*.so*, and paths
# a package of the list requires, provides, conflicts with or obsoletes); a srclist
# names each source's binaries of that arch in CRPMTAG_BINARY (1000011). Until
# 2026-12-07 this script wrote NAME, VERSION, RELEASE, (binaries) ARCH and apt's tags
# only. tests/data/genpkglist/ holds what the real tools wrote for tests/data/rpms, and
# tests/unit/sources/test_aptrpm_genpkglist.py checks that the lists written here hold
# the same entries (CRPMTAG_BLAKE2B aside).
#
#   tests/data/make_trees.sh OUT [RPMDIR]
#
# Needs: python3, rpm (for rpm -qp), xz via python's lzma, createrepo_c (skipped with
# a message when absent).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: make_trees.sh OUT [RPMDIR]}
rpms=${2:-$here/rpms}
export LC_ALL=C

rm -rf "$out/apt" "$out/createrepo"
mkdir -p "$out/apt/files/SRPMS" "$out/apt/files/list" "$out/createrepo"

# Sort the RPMs into files/SRPMS and files/<arch>/RPMS, with RPMS.classic symlinks.
for f in "$rpms"/*.rpm; do
    name=$(basename "$f")
    case "$name" in
    *.src.rpm)
        cp "$f" "$out/apt/files/SRPMS/$name"
        ;;
    *)
        arch=$(rpm -qp --nosignature --qf '%{ARCH}' "$f" 2>/dev/null)
        mkdir -p "$out/apt/files/$arch/RPMS" "$out/apt/$arch/RPMS.classic" "$out/apt/$arch/base"
        cp "$f" "$out/apt/files/$arch/RPMS/$name"
        ln -sf "../../files/$arch/RPMS/$name" "$out/apt/$arch/RPMS.classic/$name"
        ;;
    esac
    cp "$f" "$out/createrepo/$name"
done
printf 'task 283337\nprev 283300\n' >"$out/apt/files/list/task.info"

# Per arch: release, pkglist, srclist and the sha256 hash lists, written by python.
python3 - "$out/apt" <<'PY'
import hashlib
import lzma
import os
import struct
import sys

root = sys.argv[1]
INT16, INT32, INT64, STRING, BIN, STRING_ARRAY, I18NSTRING = 3, 4, 5, 6, 7, 8, 9
WIDTH = {1: 1, 2: 1, INT16: 2, INT32: 4, INT64: 8, BIN: 1}
ALIGN = {INT16: 2, INT32: 4, INT64: 8}

# The package tags genpkglist and gensrclist copy as they are (type and count too).
BINARY_TAGS = (
    1000, 1003, 1001, 1002, 1016, 1022, 1015, 1044, 1009, 1011, 1005, 1004, 1006, 100,
    1048, 1049, 1050, 1053, 1054, 1055, 1047, 1112, 1113, 1090, 1114, 1115,
)
SOURCE_TAGS = (1000, 1003, 1001, 1002, 1016, 1022, 1015, 1009, 1011, 1005, 1004, 100, 1048, 1049, 1050)
NAME, SOURCERPM = 1000, 1044
BASENAMES, DIRNAMES, DIRINDEXES, OLDFILENAMES = 1117, 1118, 1116, 1027
DEP_NAMES = (1049, 1047, 1054, 1090)  # requires, provides, conflicts, obsoletes
FILENAME, FILESIZE, MD5, BLAKE2B, DIRECTORY, BINARY = (
    1000000, 1000001, 1000005, 1000009, 1000010, 1000011,
)


def main_header(raw):
    """{tag: (type, count, data bytes)} of a package's main header, region tags left
    out; a tag given twice reads as its later entry, as librpm's headerGet has it."""
    sig_il, sig_dl = struct.unpack_from(">II", raw, 96 + 8)
    start = 96 + 16 + 16 * sig_il + sig_dl
    start += -start % 8
    il, dl = struct.unpack_from(">II", raw, start + 8)
    data_start = start + 16 + 16 * il
    entries = {}
    for i in range(il):
        tag, kind, offset, count = struct.unpack_from(">IIiI", raw, start + 16 + 16 * i)
        if tag < 100:
            continue
        at = data_start + offset
        if kind in (STRING, STRING_ARRAY, I18NSTRING):
            end = at
            for _ in range(count):
                end = raw.index(b"\0", end) + 1
        else:
            end = at + WIDTH[kind] * count
        entries[tag] = (kind, count, raw[at:end])
    return entries


def strings(entry):
    return [s.decode("utf-8", "surrogateescape") for s in entry[2].split(b"\0")[: entry[1]]]


def string_array(items):
    data = b"".join(i.encode("utf-8", "surrogateescape") + b"\0" for i in items)
    return (STRING_ARRAY, len(items), data)


def string(value):
    return (STRING, 1, value.encode("utf-8", "surrogateescape") + b"\0")


def int32(*values):
    return (INT32, len(values), struct.pack(">%dI" % len(values), *values))


def header(entries):
    """What rpm's headerWrite(..., HEADER_MAGIC_YES) makes of a header built with
    headerNew and headerPut: magic, the index sorted by tag, the data in that order with
    each entry aligned to its type's width; no region tag, no padding at the end."""
    data = bytearray()
    index = []
    for tag in sorted(entries):
        kind, count, payload = entries[tag]
        data.extend(b"\0" * (-len(data) % ALIGN.get(kind, 1)))
        index.append(struct.pack(">IIiI", tag, kind, len(data), count))
        data.extend(payload)
    intro = b"\x8e\xad\xe8\x01\0\0\0\0" + struct.pack(">II", len(index), len(data))
    return intro + b"".join(index) + bytes(data)


def file_list(pkg):
    """(dirname, basename) of every file: BASENAMES/DIRNAMES/DIRINDEXES, else OLDFILENAMES."""
    if BASENAMES in pkg:
        dirs = strings(pkg[DIRNAMES])
        indexes = struct.unpack(">%dI" % pkg[DIRINDEXES][1], pkg[DIRINDEXES][2])
        return [(dirs[i], b) for i, b in zip(indexes, strings(pkg[BASENAMES]))]
    if OLDFILENAMES in pkg:
        return [(f[: f.rindex("/") + 1], f[f.rindex("/") + 1 :]) for f in strings(pkg[OLDFILENAMES])]
    return []


def useful(d, b, dep_files):
    """genpkglist's rule for the files a stripped list keeps."""
    return (
        d.endswith(("/bin/", "/sbin/"))
        or d in ("/usr/games/", "/usr/lib/kde4bin/")
        or (d.startswith("/usr/share/java/") and b.endswith(".jar"))
        or (d.startswith("/usr/share/fonts/") and b.endswith((".ttf", ".otf")))
        or (b.startswith("lib") and ".so" in b[3:])
        or d + b in dep_files
    )


def stripped_files(pkg, dep_files):
    basenames, dirnames, dirindexes = [], [], []
    for d, b in file_list(pkg):
        if not useful(d, b, dep_files):
            continue
        basenames.append(b)
        if d not in dirnames:
            dirnames.append(d)
        dirindexes.append(dirnames.index(d))
    if not basenames:
        return {}
    return {
        BASENAMES: string_array(basenames),
        DIRNAMES: string_array(dirnames),
        DIRINDEXES: int32(*dirindexes),
    }


def apt_tags(raw, name, directory):
    return {
        DIRECTORY: string(directory),
        FILENAME: string(name),
        FILESIZE: int32(len(raw)),
        MD5: string(hashlib.md5(raw).hexdigest()),
        BLAKE2B: string(hashlib.blake2b(raw).hexdigest()),
    }


def pkglist(rpms_dir):
    """genpkglist TOP/ARCH classic: the packages sorted by (SOURCERPM, file name), each
    with the copied tags, the stripped file list and apt's tags; and the srpm index
    ("<srpm> <name>" per package, in that order) it leaves for gensrclist."""
    pkgs = []
    dep_files = set()
    for name in sorted(os.listdir(rpms_dir)):
        raw = open(os.path.join(rpms_dir, name), "rb").read()
        pkg = main_header(raw)
        pkgs.append((strings(pkg[SOURCERPM])[0], name, raw, pkg))
        for tag in DEP_NAMES:
            if tag in pkg:
                dep_files.update(d for d in strings(pkg[tag]) if d.startswith("/"))
    blobs, index = [], []
    for srpm, name, raw, pkg in sorted(pkgs, key=lambda p: (p[0], p[1])):
        entries = {tag: pkg[tag] for tag in BINARY_TAGS if tag in pkg}
        entries.update(stripped_files(pkg, dep_files))
        entries.update(apt_tags(raw, name, "RPMS.classic"))
        blobs.append(header(entries))
        index.append((srpm, strings(pkg[NAME])[0]))
    return b"".join(blobs), index


def srclist(srpms_dir, index):
    """gensrclist TOP/ARCH classic INDEX: every source package, with CRPMTAG_BINARY
    naming the binaries the index gives it (in index order) when it has any."""
    blobs = []
    for name in sorted(os.listdir(srpms_dir)):
        raw = open(os.path.join(srpms_dir, name), "rb").read()
        pkg = main_header(raw)
        entries = {tag: pkg[tag] for tag in SOURCE_TAGS if tag in pkg}
        entries.update(apt_tags(raw, name, "../SRPMS.classic"))
        binaries = [binary for srpm, binary in index if srpm == name]
        if binaries:
            entries[BINARY] = string_array(binaries)
        blobs.append(header(entries))
    return b"".join(blobs)


def write_xz(path, data):
    with lzma.open(path, "wb", format=lzma.FORMAT_XZ) as f:
        f.write(data)


def hash_list(directory):
    lines = []
    for name in sorted(os.listdir(directory)):
        raw = open(os.path.join(directory, name), "rb").read()
        lines.append(f"{hashlib.sha256(raw).hexdigest()}  {name}\n")
    return "".join(lines).encode()


files = os.path.join(root, "files")
srpms_dir = os.path.join(files, "SRPMS")
write_xz(os.path.join(files, "list", "src.hash.xz"), hash_list(srpms_dir))

archs = sorted(a for a in os.listdir(root) if a != "files")
for arch in archs:
    base = os.path.join(root, arch, "base")
    rpms_dir = os.path.join(files, arch, "RPMS")
    packages, index = pkglist(rpms_dir)
    write_xz(os.path.join(base, "pkglist.classic.xz"), packages)
    write_xz(os.path.join(base, "srclist.classic.xz"), srclist(srpms_dir, index))
    write_xz(os.path.join(files, "list", f"{arch}.hash.xz"), hash_list(rpms_dir))
    with open(os.path.join(base, "release"), "w") as f:
        f.write(
            "Origin: repotrack test\nLabel: test\nSuite: test\n"
            f"Architecture: {arch}\nComponents: classic\n"
            "BLAKE2b:\n"
        )
PY

if command -v createrepo_c >/dev/null 2>&1; then
    createrepo_c --quiet "$out/createrepo" >/dev/null
else
    echo "createrepo_c not found: $out/createrepo has no repodata/" >&2
fi
echo "made $out/apt and $out/createrepo"
