"""Changelogs read from createrepo metadata are stored in the header's order, newest first.

Every reader of ``pkg_changelog`` takes entry 1 as the package's latest change (the
``SrcPackagesLastChangelog`` view, package history, errata made from changelogs, the
vulnerability queries), as ALTRepo does with rows read from headers. createrepo_c's
``other.xml`` lists a package's last entries oldest first, so a metadata-only load must
turn them around. The judge is ``rpm -qp`` on the real RPMs the metadata was made from.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

from repotrack.ingest import METADATA_ID_BIT, load_repo
from repotrack.store import Store
from tests.conftest import need_fixtures, need_tool

#: Real packages with many changelog entries (more than createrepo_c's ten, for some).
RPMS = (
    ("opensuse", "mc-4.8.21-2.1.x86_64.rpm"),
    ("alt", "squid-helpers-6.10-alt1.x86_64.rpm"),
    ("fedora", "ngircd-22-2.fc22.x86_64.rpm"),
    ("fedora", "xrootd-devel-5.5.4-1.fc37.x86_64.rpm"),
    ("centos", "centos-release-5-0.0.el5.centos.2.x86_64.rpm"),
    ("createrepo_c", "Archer-3.4.5-6.x86_64.rpm"),
    ("rpm-testsuite", "hello-1.0-1.src.rpm"),
)

_SEP = "\x1e"


def _rpm_changelog(path: Path) -> list[tuple[int, str]]:
    """(time, text) of each entry as librpm reads the header: newest first."""
    out = subprocess.run(
        ["rpm", "-qp", "--nosignature", "--nodigest", "--qf",
         f"[%{{CHANGELOGTIME}}\x1f%{{CHANGELOGTEXT}}{_SEP}]", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    entries = [entry.split("\x1f", 1) for entry in out.split(_SEP) if entry]
    return [(int(when), text) for when, text in entries]


def test_metadata_changelog_is_newest_first(store: Store, tmp_path: Path) -> None:
    need_tool("rpm")
    createrepo = need_tool("createrepo_c")
    repo = tmp_path / "repo"
    repo.mkdir()
    expected: dict[str, list[tuple[int, str]]] = {}
    for folder, name in RPMS:
        source = need_fixtures("rpm", folder, name)
        shutil.copy(source, repo / name)
        expected[name] = _rpm_changelog(source)
    subprocess.run([createrepo, "--quiet", str(repo)], check=True)
    for rpm in repo.glob("*.rpm"):
        rpm.unlink()
    summary = load_repo(store, branch="meta", path=repo, date=date(2024, 5, 1))
    assert summary.new == len(RPMS)
    rows = store.query(
        "SELECT pkg_filename, pkg_hash, arrayMap(x -> toUnixTimestamp(x), pkg_changelog.date), "
        "pkg_changelog.hash FROM Packages_buffer"
    )
    texts = dict(store.query("SELECT chlog_hash, chlog_text FROM Changelog_buffer"))
    checked = 0
    for filename, pkg_hash, dates, hashes in rows:
        assert int(pkg_hash) & METADATA_ID_BIT
        want = expected[filename]
        stored = [texts[h] for h in hashes]
        # createrepo_c keeps the last ten entries; those are rpm's first ten.
        assert len(stored) == min(len(want), 10), filename
        assert stored == [text for _, text in want[: len(stored)]], filename
        # createrepo_c moves entries of one second apart, so that they keep their order.
        assert all(
            abs(mine - theirs) <= len(stored)
            for mine, (theirs, _) in zip(dates, want, strict=False)
        ), filename
        checked += len(stored) > 1
    assert checked >= 5
