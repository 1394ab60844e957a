"""ALT-SA security advisories (§6.2): one per vulnerability the branch's PU errata name."""

from __future__ import annotations

import json
from pathlib import Path

from repotrack.security.errata import ErrataId, build_branch_errata
from repotrack.store import Store
from tests.unit.security.world import BRANCH, build_world, squid_names_a_second_cve


def _advisories(store: Store) -> dict[str, tuple[str, list[tuple[str, str]], dict[str, object]]]:
    """vulnerability → (latest SA id, its references, its body), read back independently."""
    rows = store.query(
        "SELECT argMax(errata_id, errata_id_version), argMax(eh_references.type, "
        "errata_id_version), argMax(eh_references.link, errata_id_version), "
        "argMax(eh_json, errata_id_version) FROM ErrataHistory WHERE eh_type = 'advisory' "
        "GROUP BY errata_id_noversion"
    )
    out = {}
    for errata_id, types, links, body in rows:
        parsed = json.loads(body)
        out[parsed["vulnerability"]] = (errata_id, list(zip(types, links, strict=True)), parsed)
    return out


def test_one_advisory_per_vulnerability_bumped_when_its_fixes_change(
    store: Store, tmp_path: Path
) -> None:
    build_world(store, tmp_path)
    first = build_branch_errata(store, branch=BRANCH, user="tester")
    (pu,) = first.created
    assert (len(first.advisories_created), first.advisories_updated) == (1, [])
    sa = first.advisories_created[0]
    assert ErrataId.parse(sa).prefix == "ALT-SA" and sa.endswith("-1")
    found = _advisories(store)
    assert list(found) == ["CVE-2025-62168"]
    assert found["CVE-2025-62168"][:2] == (sa, [("vuln", "CVE-2025-62168"), ("errata", pu)])
    assert found["CVE-2025-62168"][2]["packages"] == [
        {"name": "squid", "version": "6.10", "release": "alt1", "errata": pu}
    ]

    again = build_branch_errata(store, branch=BRANCH, user="tester")
    assert (again.advisories_created, again.advisories_updated) == ([], [])
    ((rows,),) = store.query("SELECT count() FROM ErrataHistory WHERE eh_type = 'advisory'")
    assert rows == 1

    # squid's newest entry names a second CVE: its PU gets version 2, so the advisory of
    # the first CVE does too, and the second CVE gets an advisory of its own.
    squid_names_a_second_cve(store)
    bumped = build_branch_errata(store, branch=BRANCH, user="tester")
    pu2 = pu[:-2] + "-2"
    assert bumped.updated == [pu2]
    assert bumped.advisories_updated == [sa[:-2] + "-2"]
    assert len(bumped.advisories_created) == 1
    found = _advisories(store)
    assert found["CVE-2025-62168"][:2] == (
        sa[:-2] + "-2",
        [("vuln", "CVE-2025-62168"), ("errata", pu2)],
    )
    assert found["CVE-2025-99999"][1] == [("vuln", "CVE-2025-99999"), ("errata", pu2)]
    new_sa = ErrataId.parse(bumped.advisories_created[0])
    assert new_sa.number == ErrataId.parse(sa).number + 1  # the allocator's next number
    # Every advisory written (3 rows) has its ALT-EC change record.
    ((changes,),) = store.query(
        "SELECT count() FROM ErrataChangeHistory WHERE errata_id LIKE 'ALT-SA-%'"
    )
    assert changes == 3
