"""Mapping candidates from the real NVD CPE dictionary excerpt (../shared/fixtures/cve/cpe)."""

from __future__ import annotations

from repotrack.security import list_mappings
from repotrack.security.suggest import suggest_mappings
from repotrack.sources.vulns import RecordProblem
from repotrack.sources.vulns.cpe_dictionary import CpeEntry, parse_cpe_dictionary
from repotrack.store import Store
from tests.conftest import need_fixtures
from tests.unit.security.world import BRANCH, DAY
from tests.unit.store.rows import load_branch_snapshot, package


def entries() -> tuple[list[CpeEntry], list[RecordProblem]]:
    path = need_fixtures("cve", "cpe", "official-cpe-dictionary_v2.3.xml")
    items = list(parse_cpe_dictionary(path.read_bytes(), path=path.name))
    return (
        [i for i in items if isinstance(i, CpeEntry)],
        [i for i in items if isinstance(i, RecordProblem)],
    )


def test_dictionary_items_and_its_trailing_junk() -> None:
    found, problems = entries()
    raw = need_fixtures("cve", "cpe", "official-cpe-dictionary_v2.3.xml").read_text()
    # Independent count: every cpe-item minus the deprecated ones.
    assert len(found) == raw.count("<cpe-item ") - raw.count('deprecated="true"')
    (junk,) = problems
    # the extra closing tags after </cpe-list> (line 25105 of the fixture)
    assert junk.message.startswith("malformed XML: not well-formed (invalid token): line 25105")
    assert junk.message.endswith("(after 3198 items, which were read)")
    assert any(e.cpe.product == "uwsgi" and e.cpe.vendor == "unbit" for e in found)


def test_candidates_for_packages_named_like_products(store: Store) -> None:
    sources = [
        package(501, "uwsgi", "2.0.21", source=True),
        package(502, "ungit", "1.5.20", source=True),
        package(503, "not-in-dictionary", "1.0", source=True),
    ]
    load_branch_snapshot(store, BRANCH, DAY, sources, [])
    found, _ = entries()
    candidates = suggest_mappings(store, branch=BRANCH, entries=found, user="tester")
    assert candidates == [
        ("ungit", "cpe:2.3:a:ungit_project:ungit:*:*:*:*:*:node.js:*:*"),  # target_sw kept
        ("uwsgi", "cpe:2.3:a:unbit:uwsgi:*:*:*:*:*:*:*:*"),
    ]
    assert list_mappings(store) == []  # candidates are not active mappings
    again = suggest_mappings(store, branch=BRANCH, entries=found, user="tester")
    assert again == []  # known pairs are not suggested twice
    ((states,),) = store.query("SELECT groupUniqArray(pnc_state) FROM PackagesNameConversion")
    assert states == ["candidate"]


def test_binaries_without_their_sources_are_suggested_by_the_source_name(store: Store) -> None:
    """A set of binaries alone: the source RPM each names is what gets a candidate."""
    binaries = [
        package(511, "uwsgi-plugin-python3", "2.0.21", srcrpm="uwsgi-2.0.21-alt1.src.rpm"),
        package(512, "not-in-dictionary", "1.0", srcrpm="not-in-dictionary-1.0-alt1.src.rpm"),
    ]
    load_branch_snapshot(store, BRANCH, DAY, [], binaries)
    found, _ = entries()
    candidates = suggest_mappings(store, branch=BRANCH, entries=found, user="tester")
    assert candidates == [("uwsgi", "cpe:2.3:a:unbit:uwsgi:*:*:*:*:*:*:*:*")]
