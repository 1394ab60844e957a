#!/bin/sh
# Build two repository trees from a directory of RPMs (default: tests/data/rpms/):
#
#   OUT/apt/         an ALT apt-rpm "date" snapshot (ALTRepo spec section 2.2):
#                    <arch>/base/{release,pkglist.classic.xz,srclist.classic.xz},
#                    <arch>/RPMS.classic/ (symlinks into files/), files/SRPMS/,
#                    files/<arch>/RPMS/, files/list/{task.info,<arch>.hash.xz,src.hash.xz}
#   OUT/createrepo/  the same RPMs with createrepo_c metadata in repodata/
#
# No apt-rpm tool (genpkglist/gensrclist) exists on Debian, so the header lists are
# written here: each entry is a bare RPM header (no lead, no signature, no region)
# holding NAME, VERSION, RELEASE, ARCH and apt's own tags CRPMTAG_FILENAME (1000000),
# CRPMTAG_FILESIZE (1000001), CRPMTAG_MD5 (1000005), CRPMTAG_BLAKE2B (1000009) and
# CRPMTAG_DIRECTORY (1000010), as genpkglist writes them.
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
import subprocess
import sys

root = sys.argv[1]
STRING, STRING_ARRAY, INT32 = 6, 8, 4


def header(entries):
    """A bare header: magic, reserved, il, dl, sorted index entries, data."""
    data = bytearray()
    index = []
    for tag, kind, value in sorted(entries, key=lambda e: e[0]):
        if kind == INT32:
            data.extend(b"\0" * (-len(data) % 4))
            offset = len(data)
            data.extend(struct.pack(">%dI" % len(value), *value))
            count = len(value)
        elif kind == STRING:
            offset = len(data)
            data.extend(value.encode() + b"\0")
            count = 1
        else:
            offset = len(data)
            for item in value:
                data.extend(item.encode() + b"\0")
            count = len(value)
        index.append(struct.pack(">IIiI", tag, kind, offset, count))
    intro = b"\x8e\xad\xe8\x01\0\0\0\0" + struct.pack(">II", len(index), len(data))
    return intro + b"".join(index) + bytes(data)


def query(path):
    fmt = "%{NAME}\n%{VERSION}\n%{RELEASE}\n%{ARCH}\n"
    out = subprocess.run(
        ["rpm", "-qp", "--nosignature", "--qf", fmt, path],
        check=True, capture_output=True, text=True,
    ).stdout.split("\n")
    return out[:4]


def entry(path, directory, *, source):
    raw = open(path, "rb").read()
    name, version, release, arch = query(path)
    entries = [
        (1000, STRING, name),
        (1001, STRING, version),
        (1002, STRING, release),
        (1000000, STRING, os.path.basename(path)),
        (1000001, INT32, [len(raw)]),
        (1000005, STRING, hashlib.md5(raw).hexdigest()),
        (1000009, STRING, hashlib.blake2b(raw).hexdigest()),
        (1000010, STRING, directory),
    ]
    if not source:
        entries.append((1022, STRING, arch))
    return header(entries), hashlib.sha256(raw).hexdigest()


def write_xz(path, data):
    with lzma.open(path, "wb", format=lzma.FORMAT_XZ) as f:
        f.write(data)


files = os.path.join(root, "files")
srpms = sorted(os.listdir(os.path.join(files, "SRPMS")))
src_headers = []
src_hashes = []
for name in srpms:
    blob, sha256 = entry(os.path.join(files, "SRPMS", name), "../SRPMS.classic", source=True)
    src_headers.append(blob)
    src_hashes.append(f"{sha256}  {name}\n")
write_xz(os.path.join(files, "list", "src.hash.xz"), "".join(src_hashes).encode())

archs = sorted(a for a in os.listdir(root) if a != "files")
for arch in archs:
    base = os.path.join(root, arch, "base")
    rpms_dir = os.path.join(files, arch, "RPMS")
    blobs, hashes = [], []
    for name in sorted(os.listdir(rpms_dir)):
        blob, sha256 = entry(os.path.join(rpms_dir, name), "RPMS.classic", source=False)
        blobs.append(blob)
        hashes.append(f"{sha256}  {name}\n")
    write_xz(os.path.join(base, "pkglist.classic.xz"), b"".join(blobs))
    write_xz(os.path.join(base, "srclist.classic.xz"), b"".join(src_headers))
    write_xz(os.path.join(files, "list", f"{arch}.hash.xz"), "".join(hashes).encode())
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
