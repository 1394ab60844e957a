"""Feed loads: idempotent, per-record errors, source precedence, nothing half-visible."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from repotrack.errors import InputError, StoreError
from repotrack.ingest.vulns import load_vulns
from repotrack.store import Store
from tests.conftest import need_fixtures
from tests.unit.store.storeutil import open_fresh_store


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    yield from open_fresh_store(tmp_path_factory, tmp_path / "store")


def counts(store: Store) -> tuple[int, int]:
    ((vulns,),) = store.query("SELECT count() FROM Vulnerabilities")
    ((ranges,),) = store.query("SELECT count() FROM CpeMatch")
    return int(vulns), int(ranges)


def test_a_second_load_of_the_same_files_adds_nothing(store: Store) -> None:
    records = need_fixtures("cve", "nvd-2.0", "records")
    first = load_vulns(store, source="nvd", paths=[records])
    assert (first.files, first.records, first.written, first.problems) == (15, 15, 15, [])
    before = counts(store)
    second = load_vulns(store, source="nvd", paths=[records])
    assert (second.written, second.unchanged) == (0, 15)
    assert counts(store) == before


def test_cpe_match_rows_match_an_independent_count(store: Store) -> None:
    page = need_fixtures("cve", "nvd-2.0", "api-responses", "full-page.json")
    load_vulns(store, source="nvd", paths=[page])
    raw = json.loads(page.read_bytes())
    expected = 0
    for item in raw["vulnerabilities"]:
        distinct = set()
        for config in item["cve"].get("configurations", []):
            for node in config["nodes"]:
                for m in node["cpeMatch"]:
                    part, vendor, product = m["criteria"].split(":")[2:5]
                    if m["vulnerable"] and (
                        part == "a" or (vendor, product) == ("linux", "linux_kernel")
                    ):
                        bounds = tuple(m.get(k, "") for k in sorted(m) if k.startswith("version"))
                        distinct.add((m["criteria"], bounds))
        expected += len(distinct)
    assert counts(store) == (38, expected)
    ((kept,),) = store.query(
        "SELECT vuln_json FROM Vulnerabilities WHERE vuln_id = {i:String}",
        {"i": raw["vulnerabilities"][0]["cve"]["id"]},
    )
    assert json.loads(kept) == raw["vulnerabilities"][0]["cve"]


def test_nvd_is_not_replaced_by_the_cve5_copy(store: Store, tmp_path: Path) -> None:
    load_vulns(
        store,
        source="nvd",
        paths=[need_fixtures("cve", "nvd-2.0", "records", "CVE-2024-3094.json")],
    )
    cve5 = next(need_fixtures("cve", "cve5", "cves").rglob("CVE-2024-3094.json"))
    summary = load_vulns(store, source="cve5", paths=[cve5])
    assert (summary.written, summary.kept) == (0, 1)
    ((source,),) = store.query(
        "SELECT argMax(vuln_source, ts) FROM Vulnerabilities WHERE vuln_id = 'CVE-2024-3094'"
    )
    assert source == "nvd"


def test_a_bad_file_or_record_is_reported_and_the_rest_loads(store: Store, tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    shutil.copy(need_fixtures("cve", "nvd-2.0", "records", "CVE-2021-36370.json"), feed)
    (feed / "broken.json").write_text('{"vulnerabilities": [{"cve": {"id": "CVE-1')  # cut short
    page = {
        "version": "2.0",
        "vulnerabilities": [
            {"cve": {"id": "CVE-2024-0001", "published": "x", "lastModified": "x"}},
            {
                "cve": {
                    "id": "CVE-2024-0002",
                    "published": "2024-01-01T00:00:00",
                    "lastModified": "2024-01-01T00:00:00",
                    "vulnStatus": "Rejected",
                    "descriptions": [{"lang": "en", "value": "Rejected reason: duplicate"}],
                }
            },
        ],
    }
    (feed / "page.json").write_text(json.dumps(page))
    summary = load_vulns(store, source="nvd", paths=[feed])
    assert (summary.files, summary.written, summary.rejected) == (3, 2, 1)
    assert len(summary.problems) == 2
    assert summary.problems[0].startswith(f"{feed / 'broken.json'}: malformed JSON")
    assert "CVE-2024-0001" in summary.problems[1]
    ((rejected,),) = store.query(
        "SELECT vuln_rejected FROM Vulnerabilities WHERE vuln_id = 'CVE-2024-0002'"
    )
    assert rejected == 1


def test_unknown_source_and_missing_path(store: Store, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown vulnerability source 'nope'"):
        load_vulns(store, source="nope", paths=[tmp_path])
    with pytest.raises(InputError, match="no such file or directory"):
        load_vulns(store, source="nvd", paths=[tmp_path / "absent.json"])
    # a path that exists but is no file: said so (before 2026-12-07 "no such file")
    with pytest.raises(InputError, match="/dev/null: not a regular file or directory"):
        load_vulns(store, source="updateinfo", paths=[Path("/dev/null")])


class FailingOn:
    """A store that fails when a given table is written (a crash between two inserts)."""

    def __init__(self, store: Store, table: str) -> None:
        self._store = store
        self._table = table

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if table == self._table:
            raise StoreError("simulated crash")
        self._store.insert(table, columns, rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_ranges_written_before_a_crash_stay_invisible(store: Store) -> None:
    path = need_fixtures("cve", "nvd-2.0", "records", "CVE-2021-36370.json")
    with pytest.raises(StoreError):
        load_vulns(FailingOn(store, "Vulnerabilities"), source="nvd", paths=[path])  # type: ignore[arg-type]
    assert counts(store) == (0, 1)  # the range row is there ...
    visible = store.query(
        "SELECT count() FROM CpeMatch WHERE (vuln_id, vuln_hash) IN "
        "(SELECT vuln_id, argMax(vuln_hash, ts) FROM Vulnerabilities GROUP BY vuln_id)"
    )
    assert visible == [(0,)]  # ... but no reader reaches it
    assert load_vulns(store, source="nvd", paths=[path]).written == 1  # a re-run completes it


def test_oval_directory_with_bzip2_streams(store: Store) -> None:
    summary = load_vulns(store, source="oval", paths=[need_fixtures("cve", "redhat", "oval")])
    # RHEL7 dotnet (4 definitions) and RHEL8 ansible (5); repository-to-cpe.json is no feed.
    assert (summary.files, summary.written, summary.problems) == (2, 9, [])
    ((sources,),) = store.query("SELECT groupUniqArray(vuln_source) FROM Vulnerabilities")
    assert sources == ["oval"]


def test_duplicate_records_in_one_feed_keep_the_newest(store: Store, tmp_path: Path) -> None:
    def cve(modified: str, summary: str) -> dict[str, Any]:
        return {
            "cve": {
                "id": "CVE-2024-0100",
                "published": "2024-01-01T00:00:00",
                "lastModified": modified,
                "descriptions": [{"lang": "en", "value": summary}],
            }
        }

    page = {"version": "2.0", "vulnerabilities": [cve("2024-03-01T00:00:00", "newer"),
                                                  cve("2024-02-01T00:00:00", "older")]}  # fmt: skip
    (tmp_path / "dup.json").write_text(json.dumps(page))
    summary = load_vulns(store, source="nvd", paths=[tmp_path / "dup.json"])
    assert (summary.records, summary.written, summary.unchanged) == (2, 1, 1)
    rows = store.query("SELECT vuln_summary FROM Vulnerabilities WHERE vuln_id = 'CVE-2024-0100'")
    assert rows == [("newer",)]


def test_load_vulns_keeps_the_records_before_a_cut(store: Store, tmp_path: Path) -> None:
    """A cut download: its whole records load, the file is one problem, a rerun adds
    nothing."""
    page = need_fixtures("cve", "nvd-2.0", "api-responses", "full-page.json").read_bytes()
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "cut.json").write_bytes(page[: len(page) * 2 // 3])
    summary = load_vulns(store, source="nvd", paths=[feed], batch=5)
    ((stored,),) = store.query("SELECT uniqExact(vuln_id) FROM Vulnerabilities")
    assert summary.records == stored > 0
    (problem,) = summary.problems
    assert problem.startswith(f"{feed / 'cut.json'}: malformed JSON")
    again = load_vulns(store, source="nvd", paths=[feed], batch=5)
    ((after,),) = store.query("SELECT count() FROM Vulnerabilities")
    assert after == stored and again.written == 0


def test_dates_the_store_cannot_hold_are_kept_at_its_ends(store: Store, tmp_path: Path) -> None:
    """``DateTime`` holds 1970-01-01 to 2106-02-07. Before 2026-12-07 one record dated
    outside (Go's zero time ``0001-01-01``, which Go-written feeds give for "unset", or
    a far-future "never") failed the load with exit 2 and no record of its batch was
    written. The store's ends stand in (1970-01-01 is its "unknown", as for a record
    that gives no date); the record's own text keeps the dates as given."""
    source = need_fixtures("cve", "osv", "almalinux", "ALSA-2023:4520.json")
    record = json.loads(source.read_bytes())
    dates = {
        "ALSA-0001:0001": ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
        "ALSA-1960:0001": ("1960-01-01T00:00:00Z", "1960-01-02T00:00:00Z"),
        "ALSA-2200:0001": ("2200-01-01T00:00:00Z", "9999-12-31T23:59:59-05:00"),
    }
    feed = tmp_path / "feed"
    feed.mkdir()
    for vuln_id, (published, modified) in dates.items():
        shaped = {**record, "id": vuln_id, "published": published, "modified": modified}
        (feed / f"{vuln_id}.json").write_text(json.dumps(shaped))
    (feed / "good.json").write_text(json.dumps(record))
    first = load_vulns(store, source="osv", paths=[feed])
    assert (first.records, first.written, first.problems) == (4, 4, [])
    stored = dict(
        ((i, (str(p), str(m))) for i, p, m in store.query(
            "SELECT vuln_id, vuln_published_date, vuln_modified_date FROM Vulnerabilities "
            "WHERE vuln_id != {good:String}",
            {"good": record["id"]},
        ))
    )  # fmt: skip
    low, high = "1970-01-01 00:00:00+00:00", "2106-02-07 06:28:15+00:00"
    assert stored == {
        "ALSA-0001:0001": (low, low),
        "ALSA-1960:0001": (low, low),
        "ALSA-2200:0001": (high, high),
    }
    ((kept,),) = store.query(
        "SELECT vuln_json FROM Vulnerabilities WHERE vuln_id = 'ALSA-0001:0001'"
    )
    assert json.loads(kept)["published"] == "0001-01-01T00:00:00Z"
    again = load_vulns(store, source="osv", paths=[feed])
    assert (again.written, again.unchanged) == (0, 4)
