"""Feed files as the projects publish them: archives, compressed files, whole layouts.

OSV publishes each ecosystem as ``all.zip``; NVD its yearly feeds as ``.json.gz`` and
``.json.zip``; cvelistV5 is a tree with ``delta.json`` and ``deltaLog.json`` beside the
records, released as a zip holding ``cves.zip``; Red Hat's CSAF VEX files come as one
``.tar.zst``. Each test loads the real fixtures packed that way and compares with the
same fixtures loaded as plain files; a file that cannot be read at all is one problem
naming it, and every other file loads.
"""

from __future__ import annotations

import functools
import gzip
import io
import json
import shutil
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import zstandard

from repotrack.ingest.vulns import VulnLoadSummary, load_vulns
from repotrack.store import Store
from tests.conftest import need_fixtures

ALMA = ("cve", "osv", "almalinux")
PAGE = ("cve", "nvd-2.0", "api-responses", "full-page.json")


def _stored(store: Store) -> list[tuple[Any, ...]]:
    return store.query(
        "SELECT vuln_id, argMax(vuln_hash, ts) FROM Vulnerabilities GROUP BY vuln_id "
        "ORDER BY vuln_id"
    )


def _counts(summary: VulnLoadSummary) -> tuple[int, int, list[str]]:
    return summary.records, summary.written, summary.problems


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_an_unreadable_file_is_reported_and_the_others_load(store: Store, tmp_path: Path) -> None:
    records = need_fixtures("cve", "nvd-2.0", "records")
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    shutil.copy(records / "CVE-2014-1424.json", feeds)
    broken = feeds / "a-broken.json.gz"
    broken.write_bytes(gzip.compress(need_fixtures(*PAGE).read_bytes())[:300])
    shutil.copy(records / "CVE-2016-1585.json", feeds / "z.json")
    summary = load_vulns(store, source="nvd", paths=[feeds])
    assert (summary.files, summary.records, summary.written) == (3, 2, 2)
    (problem,) = summary.problems
    assert problem.startswith(f"{broken}: cannot read")
    assert [v for v, _ in _stored(store)] == ["CVE-2014-1424", "CVE-2016-1585"]


def test_osv_all_zip_loads_as_its_files_do(store: Store, tmp_path: Path) -> None:
    files = sorted(need_fixtures(*ALMA).glob("*.json"))
    archive = _zip(tmp_path / "all.zip", {f.name: f.read_bytes() for f in files})
    summary = load_vulns(store, source="osv", paths=[archive])
    assert (summary.files, *_counts(summary)) == (3, 3, 3, [])
    from_zip = _stored(store)
    again = load_vulns(store, source="osv", paths=[archive])
    assert (again.written, again.unchanged) == (0, 3)
    plain = load_vulns(store, source="osv", paths=files)
    assert (plain.written, plain.unchanged) == (0, 3)  # the same records, to the hash
    assert [v for v, _ in from_zip] == ["ALBA-2021:4378", "ALSA-2023:4520", "ALSA-2024:2433"]


def test_nvd_feed_zip_and_gz_load_as_the_json_does(store: Store, tmp_path: Path) -> None:
    page = need_fixtures(*PAGE).read_bytes()
    packed = _zip(tmp_path / "nvdcve-2.0-2024.json.zip", {"nvdcve-2.0-2024.json": page})
    gz = tmp_path / "nvdcve-2.0-2023.json.gz"
    gz.write_bytes(gzip.compress(page))
    first = load_vulns(store, source="nvd", paths=[packed])
    assert _counts(first) == (38, 38, [])
    second = load_vulns(store, source="nvd", paths=[gz])
    assert (second.records, second.unchanged) == (38, 38)
    unnamed = tmp_path / "feed"  # what it is, not what it is called
    unnamed.write_bytes(gzip.compress(page))
    assert load_vulns(store, source="nvd", paths=[unnamed]).unchanged == 38


def _cvelist(root: Path) -> Path:
    """The fixture records in cvelistV5's layout, with its two delta files."""
    shutil.copytree(need_fixtures("cve", "cve5", "cves"), root / "cves")
    delta = {"fetchTime": "2026-12-05T10:00:00.000Z", "numberOfChanges": 0, "new": [],
             "updated": [], "error": []}  # fmt: skip
    (root / "cves" / "delta.json").write_text(json.dumps(delta))
    (root / "cves" / "deltaLog.json").write_text(json.dumps([delta]))
    return root


def test_cvelist_layout_and_its_release_zip(store: Store, tmp_path: Path) -> None:
    tree = _cvelist(tmp_path / "cvelistV5")
    summary = load_vulns(store, source="cve5", paths=[tree])
    assert _counts(summary) == (6, 6, [])
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        for path in sorted((tree / "cves").rglob("*.json")):
            archive.write(path, path.relative_to(tree).as_posix())
    release = _zip(tmp_path / "2026-12-05_all_CVEs_at_midnight.zip.zip",
                   {"cves.zip": inner.getvalue()})  # fmt: skip
    again = load_vulns(store, source="cve5", paths=[release])
    assert (again.records, again.unchanged, again.problems) == (6, 6, [])


def test_csaf_tar_zst_as_red_hat_publishes_it(store: Store, tmp_path: Path) -> None:
    files = sorted(need_fixtures("cve", "redhat", "csaf").glob("*.json"))
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        for path in files:
            archive.add(path, f"2025/{path.name}")
    packed = tmp_path / "csaf_vex_2025-12-01.tar.zst"
    packed.write_bytes(zstandard.ZstdCompressor().compress(raw.getvalue()))
    summary = load_vulns(store, source="csaf", paths=[packed])
    plain = load_vulns(store, source="csaf", paths=files)
    assert (summary.files, summary.written, summary.problems) == (2, 2, [])
    assert (plain.written, plain.unchanged) == (0, 2)


def test_a_damaged_archive_is_one_problem_and_the_rest_loads(store: Store, tmp_path: Path) -> None:
    files = sorted(need_fixtures(*ALMA).glob("*.json"))
    good = _zip(tmp_path / "good.zip", {files[0].name: files[0].read_bytes()})
    whole = _zip(tmp_path / "whole.zip", {f.name: f.read_bytes() for f in files})
    cut = tmp_path / "cut.zip"
    cut.write_bytes(whole.read_bytes()[:-40])
    bad_member = _zip(
        tmp_path / "member.zip", {"x.json": b"{", files[1].name: files[1].read_bytes()}
    )
    summary = load_vulns(store, source="osv", paths=[cut, good, bad_member])
    assert (summary.records, summary.written) == (2, 2)
    assert [p.split(": ")[0] for p in summary.problems] == [str(cut), f"{bad_member}!x.json"]
    assert "not a readable zip archive" in summary.problems[0]


@pytest.fixture
def files_url(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", served
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_archives_and_gz_feeds_over_http(store: Store, files_url: tuple[str, Path]) -> None:
    base, served = files_url
    files = sorted(need_fixtures(*ALMA).glob("*.json"))
    _zip(served / "all.zip", {f.name: f.read_bytes() for f in files})
    (served / "nvdcve-2.0-2024.json.gz").write_bytes(
        gzip.compress(need_fixtures(*PAGE).read_bytes())
    )
    osv = load_vulns(store, source="osv", paths=[f"{base}/all.zip"])
    assert (osv.files, *_counts(osv)) == (3, 3, 3, [])
    nvd = load_vulns(store, source="nvd", paths=[f"{base}/nvdcve-2.0-2024.json.gz"])
    assert _counts(nvd) == (38, 38, [])
    again = load_vulns(store, source="osv", paths=[f"{base}/all.zip"])
    assert (again.files, again.not_modified) == (0, 1)  # Last-Modified: not read again


def test_cut_and_flipped_archives_give_problems_never_a_crash(tmp_path: Path) -> None:
    """Every packing of the real AlmaLinux OSV records, cut at 40 places and with bytes
    flipped at 40 more: each reads as documents and problems naming the file."""
    from repotrack.ingest.feed_files import path_documents
    from repotrack.sources.vulns import RecordProblem

    files = sorted(need_fixtures(*ALMA).glob("*.json"))
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        for path in files:
            archive.add(path, path.name)
    packings = {
        "all.zip": _zip(tmp_path / "z.zip", {f.name: f.read_bytes() for f in files}).read_bytes(),
        "all.tar.gz": gzip.compress(raw.getvalue()),
        "all.tar.zst": zstandard.ZstdCompressor().compress(raw.getvalue()),
        "all.tar": raw.getvalue(),
    }
    damaged = tmp_path / "damaged"
    for name, data in packings.items():
        step = max(1, len(data) // 40)
        variants = [data[:cut] for cut in range(1, len(data), step)]
        variants += [
            data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
            for at in range(0, len(data), step)
        ]
        for variant in variants:
            damaged.write_bytes(variant)
            for document in path_documents(damaged, "osv"):
                if isinstance(document, RecordProblem):
                    assert document.where.startswith(str(damaged)), (name, document)
