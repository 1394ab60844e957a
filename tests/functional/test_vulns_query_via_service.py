"""The ``vulns`` queries print the same whether the CLI opens the store or the service holds it.

The store is ``tests.unit.security.world``'s hand-checked branch, matched and with its
errata built. Each command runs with the store free, then while ``repotrack serve`` holds
it; stdout, stderr and exit status must be identical.
"""

from __future__ import annotations

import pytest

from tests.functional.test_load_handoff import _free_port
from tests.functional.test_query_via_service import _env, _run, _serving
from tests.unit.security.world import BRANCH, build_world
from tests.unit.store.storeutil import fresh_store_url

ERRATA = ("vulns", "errata", "list", "-b", BRANCH, "--from", "2000-01-01", "--to", "2100-01-01")

COMMANDS = [
    ("vulns", "package", "squid", "-b", BRANCH),
    ("vulns", "package", "mc", "-b", BRANCH, "-s", "vulnerable", "-f", "json"),
    ("vulns", "cve", "CVE-2021-36370"),
    ("vulns", "cve", "CVE-2025-62168", "-b", BRANCH, "-f", "json"),
    ("vulns", "open", "-b", BRANCH),
    ("vulns", "open", "-b", BRANCH, "-s", "fixed", "-f", "json"),
    ("vulns", "fixed", "CVE-2025-62168"),
    ("vulns", "fixed", "CVE-2021-36370", "-f", "json"),
    ("vulns", "show", "CVE-2024-3094"),
    ("vulns", "show", "CVE-2025-62168", "-f", "json"),
    ("vulns", "last-fixed", "-b", BRANCH),
    ("vulns", "last-fixed", "-b", BRANCH, "--limit", "1", "-f", "json"),
    ERRATA,
    (*ERRATA, "-f", "json"),
    ("vulns", "map", "list"),
    ("vulns", "map", "list", "-p", "tukit", "-f", "json"),
    ("vulns", "show", "CVE-1999-0001"),
    ("vulns", "fixed", "CVE-1999-0001"),
    ("vulns", "last-fixed", "-b", "nosuch"),
    ("vulns", "package", "mc", "-b", BRANCH, "-s", "bad"),
    ("vulns", "open", "-b", ""),
    ("vulns", "show", ""),
    ("vulns", "last-fixed", "-b", BRANCH, "--limit", "0"),
    ("vulns", "errata", "list", "-b", BRANCH, "--from", "2025-01-02", "--to", "2025-01-01"),
]

Outputs = tuple[list[tuple[int, str, str]], list[tuple[int, str, str]]]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Outputs:
    from repotrack.security import rematch_branch
    from repotrack.security.errata import build_branch_errata
    from repotrack.store import open_store

    work = tmp_path_factory.mktemp("vulns-reads")
    home = work / "home"
    url = fresh_store_url(tmp_path_factory, home / "store")
    with open_store(url) as store:
        build_world(store, work)
        rematch_branch(store, branch=BRANCH)
        build_branch_errata(store, branch=BRANCH, user="test")
    port = _free_port()
    env = _env(home, port)
    alone = [_run(env, args) for args in COMMANDS]
    with _serving(env, port, work / "serve.log"):
        held = [_run(env, args) for args in COMMANDS]
    return alone, held


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(COMMANDS)), ids=[" ".join(c) for c in COMMANDS])
def test_same_output_with_and_without_the_service(outputs: Outputs, index: int) -> None:
    alone, held = outputs
    assert "Traceback" not in alone[index][2]
    assert held[index] == alone[index]


@pytest.mark.slow
def test_the_answers_are_the_worlds_answers(outputs: Outputs) -> None:
    """Both ways answered with the hand-checked verdicts, and the errors a user should see."""
    alone, _held = outputs
    code, out, _ = alone[2]
    assert code == 0 and "mc 4.8.21-alt1\tCVE-2021-36370\tvulnerable\t(range)" in out
    code, out, _ = alone[4]
    assert code == 0 and out.splitlines()[-1] == "3 verdict(s)"  # mc, tukit, xz
    code, out, _ = alone[6]
    assert out.strip() == f"{BRANCH}\tfirst fixed: squid 6.10-alt1\topen: -"
    code, out, _ = alone[12]
    assert code == 0 and "squid 6.10-alt1\tCVE-2025-62168" in out
    assert alone[16][:2] == (1, "")
    assert alone[16][2].strip() == "NotFoundError: no vulnerability CVE-1999-0001 is loaded"
    assert [alone[i][0] for i in range(17, 24)] == [1, 1, 2, 2, 2, 2, 2]
