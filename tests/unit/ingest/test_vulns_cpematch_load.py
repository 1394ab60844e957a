"""``load vulns cpematch``: idempotent, changed criteria replace their row, the API paged
and then asked for changes only; NVD ranges join their criteria's concrete names; the
mapping check says which mappings name a product NVD knows."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from repotrack.ingest.vulns import load_vulns
from repotrack.security.mapping import check_mappings, set_mapping
from repotrack.store import Store
from tests.conftest import need_fixtures
from tests.unit.store.storeutil import open_fresh_store

PAGE = Path(__file__).parents[2] / "data" / "vulns" / "cpematch-2.0-page.json"


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    yield from open_fresh_store(tmp_path_factory, tmp_path / "store")


def _current(store: Store) -> dict[str, list[str]]:
    rows = store.query(
        "SELECT mcs_id, argMax(mcs_cpe_names, ts) FROM CpeMatchStrings GROUP BY mcs_id"
    )
    return {str(i): list(n) for i, n in rows}


def test_a_second_load_adds_nothing_and_a_changed_criteria_replaces_its_row(
    store: Store, tmp_path: Path
) -> None:
    raw = json.loads(PAGE.read_bytes())
    readable = [m for m in raw["matchStrings"] if "criteria" in m["matchString"]]
    first = load_vulns(store, source="cpematch", paths=[PAGE])
    assert (first.files, first.records, first.written, first.rejected) == (1, 3, 3, 1)
    assert len(first.problems) == 1 and "match[2]" in first.problems[0]
    assert first.line() == (
        "cpematch: 1 file(s), 3 match string(s): 3 written (1 inactive), 0 already loaded"
    )
    assert sorted(_current(store)) == sorted(m["matchString"]["matchCriteriaId"] for m in readable)
    again = load_vulns(store, source="cpematch", paths=[PAGE])
    assert (again.written, again.unchanged) == (0, 3)
    ((rows,),) = store.query("SELECT count() FROM CpeMatchStrings")
    assert rows == 3

    squid = raw["matchStrings"][0]["matchString"]
    squid["matches"].append({"cpeName": "cpe:2.3:a:squid-cache:squid:7.1.1:*:*:*:*:*:*:*"})
    squid["lastModified"] = "2025-11-01T00:00:00.000"
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(raw))
    later = load_vulns(store, source="cpematch", paths=[changed])
    assert (later.written, later.unchanged) == (1, 2)
    assert _current(store)[squid["matchCriteriaId"]][-1].endswith(":7.1.1:*:*:*:*:*:*:*")
    assert len(_current(store)[squid["matchCriteriaId"]]) == 3  # 6.10, 7.1 (once), 7.1.1


def test_a_cve_range_reaches_its_concrete_names(store: Store, tmp_path: Path) -> None:
    record = need_fixtures("cve", "nvd-2.0", "records", "CVE-2021-36370.json")
    load_vulns(store, source="nvd", paths=[record])
    ((match_id,),) = store.query(
        "SELECT cpm_match_criteria_id FROM CpeMatch WHERE vuln_id = 'CVE-2021-36370'"
    )
    assert match_id and match_id in record.read_text()
    names = [
        "cpe:2.3:a:midnight-commander:midnight_commander:4.8.21:*:*:*:*:*:*:*",
        "cpe:2.3:a:midnight-commander:midnight_commander:4.8.26:*:*:*:*:*:*:*",
    ]
    page = {
        "format": "NVD_CPEMatchString",
        "version": "2.0",
        "matchStrings": [
            {
                "matchString": {
                    "matchCriteriaId": match_id,
                    "criteria": "cpe:2.3:a:midnight-commander:midnight_commander:*:*:*:*:*:*:*:*",
                    "versionEndIncluding": "4.8.26",
                    "status": "Active",
                    "created": "2021-08-30T19:15:08.917",
                    "matches": [{"cpeName": n} for n in names],
                }
            }
        ],
    }
    feed = tmp_path / "mc.json"
    feed.write_text(json.dumps(page))
    load_vulns(store, source="cpematch", paths=[feed])
    joined = store.query(
        "SELECT C.vuln_id, arrayJoin(S.names) FROM CpeMatch AS C INNER JOIN "
        "(SELECT mcs_id, argMax(mcs_cpe_names, ts) AS names FROM CpeMatchStrings "
        "GROUP BY mcs_id) AS S ON S.mcs_id = C.cpm_match_criteria_id ORDER BY 2"
    )
    assert [tuple(r) for r in joined] == [("CVE-2021-36370", n) for n in names]


def test_the_mapping_check_names_mappings_nvd_does_not_know(store: Store) -> None:
    load_vulns(
        store,
        source="nvd",
        paths=[need_fixtures("cve", "nvd-2.0", "records", "CVE-2021-36370.json")],
    )
    load_vulns(store, source="cpematch", paths=[PAGE])
    mc = "cpe:2.3:a:midnight-commander:midnight_commander:*:*:*:*:*:*:*:*"
    squid = "cpe:2.3:a:squid-cache:squid:*:*:*:*:*:*:*:*"
    typo = "cpe:2.3:a:squid_cache:squid:*:*:*:*:*:*:*:*"
    for name, cpe in (("mc", mc), ("squid", squid), ("squid", typo)):
        set_mapping(store, pkg_name=name, result=cpe, user="t")
    checks = {(c.pkg_name, c.result): c for c in check_mappings(store)}
    assert (checks[("mc", mc)].ranges, checks[("mc", mc)].criteria) == (1, 0)
    assert (checks[("squid", squid)].ranges, checks[("squid", squid)].criteria) == (0, 1)
    assert checks[("squid", squid)].names == 2
    assert [k for k, c in checks.items() if not c.known] == [("squid", typo)]
    assert [c.result for c in check_mappings(store, pkg_name="mc")] == [mc]


@pytest.fixture
def api() -> Iterator[tuple[str, list[dict[str, list[str]]]]]:
    """An emulated Match Criteria API 2.0 that answers two items a page."""
    items: list[Any] = json.loads(PAGE.read_bytes())["matchStrings"]
    asked: list[dict[str, list[str]]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            asked.append(query)
            start = int(query["startIndex"][0])
            size = min(int(query["resultsPerPage"][0]), 2)
            body = json.dumps(
                {
                    "resultsPerPage": size,
                    "startIndex": start,
                    "totalResults": len(items),
                    "format": "NVD_CPEMatchString",
                    "version": "2.0",
                    "matchStrings": items[start : start + size],
                }
            ).encode()
            self.send_response(200 if url.path == "/rest/json/cpematch/2.0" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/rest/json/cpematch/2.0", asked
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_the_api_is_paged_then_asked_for_changes_only(
    store: Store, api: tuple[str, list[dict[str, list[str]]]]
) -> None:
    url, asked = api
    first = load_vulns(store, source="cpematch", paths=[url])
    assert (first.files, first.records, first.written) == (2, 3, 3)
    assert [(q["startIndex"], q["resultsPerPage"]) for q in asked] == [
        (["0"], ["500"]),
        (["2"], ["500"]),
    ]
    assert all("lastModStartDate" not in q for q in asked)
    again = load_vulns(store, source="cpematch", paths=[url])
    assert (again.written, again.unchanged) == (0, 3)
    assert "lastModStartDate" in asked[-1] and "lastModEndDate" in asked[-1]
