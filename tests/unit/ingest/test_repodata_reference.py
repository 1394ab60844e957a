"""Metadata-only loads of real repodata excerpts, checked against the metadata itself.

These trees come from public repositories the other tests never used (see
``tests/data/repodata-reference/PROVENANCE.md``); each keeps only the package that showed
a disagreement when every package of the full tree was compared with createrepo_c's own
parse of it. The expectation is read here with the standard library's XML parser, not
with repotrack's, so the two readers stay independent.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

from repotrack.ingest import METADATA_ID_BIT, load_repo
from repotrack.store import Store
from tests.conftest import DATA

REFERENCE = DATA / "repodata-reference"
_OTHER_NS = "{http://linux.duke.edu/metadata/other}"
_CHANGELOG = re.compile(r"<changelog\b.*?</changelog>\n?", re.DOTALL)


def _build_tree(root: Path, files: dict[str, bytes]) -> Path:
    """A repository whose ``repodata/`` holds ``files`` gzip-compressed, with a
    repomd.xml whose checksums and sizes match them, as a generator would write it."""
    repodata = root / "repodata"
    repodata.mkdir(parents=True)
    records = []
    for kind, content in files.items():
        packed = gzip.compress(content, mtime=0)
        (repodata / f"{kind}.xml.gz").write_bytes(packed)
        records.append(
            f'<data type="{kind}"><location href="repodata/{kind}.xml.gz"/>'
            f'<checksum type="sha256">{hashlib.sha256(packed).hexdigest()}</checksum>'
            f'<open-checksum type="sha256">{hashlib.sha256(content).hexdigest()}</open-checksum>'
            f"<size>{len(packed)}</size><open-size>{len(content)}</open-size></data>"
        )
    (repodata / "repomd.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<repomd xmlns="http://linux.duke.edu/metadata/repo">'
        f"<revision>1</revision>{''.join(records)}</repomd>\n",
        encoding="utf-8",
    )
    return root


def _reference(name: str) -> dict[str, bytes]:
    folder = REFERENCE / name
    kinds = ("primary", "filelists", "other")
    return {kind: (folder / f"{kind}.xml").read_bytes() for kind in kinds}


def _file_changelog(other: bytes) -> list[tuple[int, str, str]]:
    """(date, author, text) of every ``<changelog>``, in the file's order."""
    # the committed excerpt, without a DTD
    package = ET.fromstring(other).find(f"{_OTHER_NS}package")  # noqa: S314
    assert package is not None
    return [
        (int(c.get("date", "0")), c.get("author", ""), c.text or "")
        for c in package.iter(f"{_OTHER_NS}changelog")
    ]


def _stored_changelog(store: Store) -> list[tuple[int, str, str]]:
    """(date, author, text) of the one stored package's entries, in stored order."""
    rows = store.query(
        "SELECT pkg_hash, arrayMap(x -> toUnixTimestamp(x), pkg_changelog.date), "
        "pkg_changelog.name, pkg_changelog.evr, pkg_changelog.hash FROM Packages_buffer"
    )
    assert len(rows) == 1
    pkg_hash, dates, names, evrs, hashes = rows[0]
    assert int(pkg_hash) & METADATA_ID_BIT
    texts = dict(store.query("SELECT chlog_hash, chlog_text FROM Changelog_buffer"))
    return [
        (when, f"{name} {evr}" if evr else name, texts[digest])
        for when, name, evr, digest in zip(dates, names, evrs, hashes, strict=True)
    ]


def test_newest_first_other_xml_keeps_entries_of_one_date_in_order(
    store: Store, tmp_path: Path
) -> None:
    """SUSE's generator wrote other.xml newest first, in the header's own order. Two
    entries of tar-1.15.1-42.2.src share a date, and the header (so the file) puts the
    later change, "Update to 1.15.1", first. Turning every file around and then sorting
    by date (right for createrepo_c's oldest-first files) swapped the two: the stored
    order must be the file's."""
    files = _reference("opensuse-10.2-tar-src")
    expected = _file_changelog(files["other"])
    assert len(expected) == 32
    assert expected[10][0] == expected[11][0]
    assert expected[10][2].startswith("- Update to 1.15.1")

    tree = _build_tree(tmp_path / "repo", files)
    summary = load_repo(store, branch="ref", path=tree, date=date(2024, 1, 1))
    assert summary.new == 1
    assert _stored_changelog(store) == expected


def test_oldest_first_other_xml_of_the_same_entries_stores_the_same_order(
    store: Store, tmp_path: Path
) -> None:
    """The same entries written oldest first, createrepo_c's way (the header's list
    reversed, entries of one date included), are stored in the same header order."""
    files = _reference("opensuse-10.2-tar-src")
    expected = _file_changelog(files["other"])
    text = files["other"].decode("utf-8")
    entries = _CHANGELOG.findall(text)
    start = text.index(entries[0])
    end = text.index(entries[-1]) + len(entries[-1])
    files["other"] = (text[:start] + "".join(reversed(entries)) + text[end:]).encode("utf-8")
    assert _file_changelog(files["other"]) == expected[::-1]

    tree = _build_tree(tmp_path / "repo", files)
    load_repo(store, branch="ref", path=tree, date=date(2024, 1, 1))
    assert _stored_changelog(store) == expected
