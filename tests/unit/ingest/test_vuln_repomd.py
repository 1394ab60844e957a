"""``load vulns updateinfo`` given a repository: found through its ``repomd.xml``.

A local HTTP server (``FeedServer``) plays the mirror: ``/repo/repodata/repomd.xml``
(Rocky's real one, its updateinfo entry pointed at the file served and given that
file's SHA-256) and the checksum-named updateinfo file (Rocky's real excerpt, gzip).
It answers a conditional GET with 304 and records every request.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from repotrack.errors import InputError
from repotrack.ingest.vuln_repomd import repomd_url
from repotrack.ingest.vulns import load_vulns
from repotrack.store import Store
from tests.conftest import need_fixtures
from tests.unit.ingest.feeds.feedserver import FeedServer, Reply

HREF = "repodata/0f1e2d3c-updateinfo.xml.gz"
SYNCED = datetime(2026, 12, 1, tzinfo=UTC)


def _repository(updateinfo: bytes, *, checksum: str | None = None) -> bytes:
    """Rocky's repomd.xml with its updateinfo entry naming ``HREF`` and the checksum."""
    repomd = need_fixtures("repodata", "rocky", "repomd.xml").read_text()
    head, entry, tail = re.split(r'(<data type="updateinfo">.*?</data>)', repomd, flags=re.S)
    digest = checksum or hashlib.sha256(updateinfo).hexdigest()
    entry = re.sub(
        r"<checksum type=\"sha256\">\w+</checksum>",
        f'<checksum type="sha256">{digest}</checksum>',
        entry,
    )
    entry = re.sub(r'<location href="[^"]+"\s*/>', f'<location href="{HREF}"/>', entry)
    return (head + entry + tail).encode()


class Mirror:
    """The repository on a ``FeedServer``: both files with a ``Last-Modified``, so that
    a conditional GET is answered 304."""

    def __init__(self, server: FeedServer) -> None:
        self.server = server
        self.updateinfo = gzip.compress(
            need_fixtures("repodata", "rocky", "updateinfo.xml").read_bytes()
        )
        self.serve(_repository(self.updateinfo))
        server.set(f"/repo/{HREF}", Reply(self.updateinfo, last_modified=SYNCED))

    def serve(self, repomd: bytes) -> None:
        self.server.set("/repo/repodata/repomd.xml", Reply(repomd, last_modified=SYNCED))

    @property
    def requests(self) -> list[str]:
        return [seen.path for seen in self.server.requests]


@pytest.fixture
def mirror() -> Iterator[tuple[str, Mirror]]:
    server = FeedServer().start()
    try:
        yield server.url, Mirror(server)
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://m.example/rocky/8/BaseOS/x86_64/os/",
            "https://m.example/rocky/8/BaseOS/x86_64/os/repodata/repomd.xml",
        ),
        ("https://m.example/os/repodata", "https://m.example/os/repodata/repomd.xml"),
        ("https://m.example/os/repodata/", "https://m.example/os/repodata/repomd.xml"),
        ("https://m.example/os/repodata/repomd.xml", "https://m.example/os/repodata/repomd.xml"),
        ("https://m.example/os/repodata/1f-updateinfo.xml.gz", None),
    ],
)
def test_which_urls_name_a_repository(url: str, expected: str | None) -> None:
    assert repomd_url(url) == expected


@pytest.mark.parametrize("where", ["/repo/", "/repo/repodata", "/repo/repodata/repomd.xml"])
def test_a_repository_url_reads_its_updateinfo_once(
    store: Store, mirror: tuple[str, Mirror], where: str
) -> None:
    base, served = mirror
    summary = load_vulns(store, source="updateinfo", paths=[base + where])
    assert (summary.records, summary.written, summary.problems) == (4, 4, [])
    assert served.requests == ["/repo/repodata/repomd.xml", f"/repo/{HREF}"]
    served.server.requests.clear()
    again = load_vulns(store, source="updateinfo", paths=[base + where])
    assert (again.records, again.not_modified) == (0, 1)
    assert served.requests == ["/repo/repodata/repomd.xml"]  # 304: the advisories not asked


def test_an_updateinfo_that_is_not_the_one_repomd_names_loads_nothing(
    store: Store, mirror: tuple[str, Mirror]
) -> None:
    base, served = mirror
    served.serve(_repository(served.updateinfo, checksum="0" * 64))  # a mirror mid-sync
    with pytest.raises(InputError, match=r"not 0{64} as .*repomd\.xml states") as caught:
        load_vulns(store, source="updateinfo", paths=[f"{base}/repo/"])
    assert HREF in str(caught.value)
    assert store.query("SELECT count() FROM Vulnerabilities") == [(0,)]
    served.serve(_repository(served.updateinfo))  # synced: read again, not taken as seen
    assert load_vulns(store, source="updateinfo", paths=[f"{base}/repo/"]).written == 4


def test_a_local_repomd_names_its_updateinfo(store: Store, tmp_path: Path) -> None:
    updateinfo = gzip.compress(need_fixtures("repodata", "rocky", "updateinfo.xml").read_bytes())
    (tmp_path / "repodata").mkdir()
    repomd = tmp_path / "repodata" / "repomd.xml"
    repomd.write_bytes(_repository(updateinfo))
    with pytest.raises(InputError, match="cannot be read"):
        load_vulns(store, source="updateinfo", paths=[repomd])
    (tmp_path / HREF).write_bytes(updateinfo)
    summary = load_vulns(store, source="updateinfo", paths=[repomd])
    assert (summary.files, summary.records, summary.written) == (1, 4, 4)
    (tmp_path / HREF).write_bytes(updateinfo[:-10])
    with pytest.raises(InputError, match="a cut download"):
        load_vulns(store, source="updateinfo", paths=[repomd])
    other = need_fixtures("repodata", "createrepo_c", "repo_01", "repodata", "repomd.xml")
    with pytest.raises(InputError, match="lists no updateinfo"):
        load_vulns(store, source="updateinfo", paths=[other])


@pytest.mark.parametrize(
    "href",
    ["../../etc/passwd", "/etc/passwd", "repodata/../../x.xml", "https://elsewhere/u.xml.gz"],
)
def test_a_location_outside_the_repository_is_refused(
    store: Store, tmp_path: Path, href: str
) -> None:
    """The service reads what a repomd.xml names: never a file outside the repository."""
    (tmp_path / "repodata").mkdir()
    repomd = tmp_path / "repodata" / "repomd.xml"
    repomd.write_bytes(_repository(b"x").replace(HREF.encode(), href.encode()))
    with pytest.raises(InputError, match="leaves the repository"):
        load_vulns(store, source="updateinfo", paths=[repomd])
