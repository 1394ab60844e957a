"""``repotrack vulns match`` while ``repotrack serve`` holds the store: the service rematches.

The store is ``tests.unit.security.world``'s hand-checked branch. The first rematch runs
with the store free; the next ones run while the service holds it and must print the
same kind of line, leave the verdicts a query then reads, and refuse without the account.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from repotrack.passwords import hash_password
from tests.functional.test_load_handoff import PASSWORD, _free_port
from tests.functional.test_query_via_service import _env, _run, _serving
from tests.unit.security.world import BRANCH, build_world
from tests.unit.store.storeutil import fresh_store_url

MC_CPE = "cpe:2.3:a:midnight-commander:midnight_commander:*:*:*:*:*:*:*:*"
LINE = re.compile(
    rf"^{BRANCH}: (full|incremental) rematch \((rpm|alt) order\) of (\d+) vulnerabilities: "
    r"\d+ range match\(es\), (\d+) verdict\(s\) in [\d.]+ s$"
)


@pytest.mark.slow
def test_the_service_rematches_while_it_holds_the_store(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    from repotrack.store import open_store

    url = fresh_store_url(tmp_path_factory, tmp_path / "home" / "store")
    with open_store(url) as store:
        build_world(store, tmp_path)
    port = _free_port()
    env = _env(tmp_path / "home", port)
    env["REPOTRACK_SERVICE__PASSWORD_HASH"] = hash_password(PASSWORD, iterations=1000)
    code, out, err = _run(env, ("vulns", "match", "-b", BRANCH))
    assert (code, err) == (0, "")
    first = LINE.match(out.strip())
    assert first and first.group(1, 2, 3, 4) == ("full", "rpm", "8", "8")
    with_account = dict(env, REPOTRACK_PASSWORD=PASSWORD)
    with _serving(env, port, tmp_path / "serve.log"):
        code, out, err = _run(with_account, ("vulns", "match", "-b", BRANCH))
        assert code == 0, err
        again = LINE.match(out.strip())
        assert again and again.group(1, 3, 4) == ("incremental", "0", "0")
        assert f"rematched by the repotrack service at http://127.0.0.1:{port}" in err
        args = ("vulns", "match", "-b", BRANCH, "--full", "--order", "alt")
        code, out, err = _run(with_account, args)
        alt = LINE.match(out.strip())
        assert code == 0 and alt and alt.group(1, 2) == ("full", "alt"), err
        # The service's verdicts: tukit 1.a is past "up to 1.1" in ALT's order.
        code, out, _ = _run(env, ("vulns", "package", "tukit", "-b", BRANCH, "-f", "json"))
        assert code == 0 and '"status": "fixed"' in out
        code, out, err = _run(env, ("vulns", "match", "-b", BRANCH))
        assert (code, out) == (1, "")
        assert "wants an account for changes; set REPOTRACK_USER and REPOTRACK_PASSWORD" in err
        # Mapping and triage changes go to the service too; the next rematch applies them.
        code, out, err = _run(with_account, ("vulns", "map", "unset", "mc", MC_CPE))
        assert (code, out.strip()) == (0, f"mc ↛ {MC_CPE}"), err
        assert "recorded by the repotrack service" in err
        triage = ("vulns", "triage", "CVE-2024-3094", "xz", "-s", "fixed", "-b", BRANCH)
        code, out, err = _run(with_account, triage)
        assert (code, out.strip()) == (0, f"CVE-2024-3094 xz [{BRANCH}]: fixed"), err
        code, out, err = _run(with_account, ("vulns", "match", "-b", BRANCH))
        after = LINE.match(out.strip())
        assert code == 0 and after and after.group(1) == "full", err  # a mapping changed
        code, out, _ = _run(env, ("vulns", "open", "-b", BRANCH))
        assert code == 0 and "xz" not in out and "mc" not in out and "tukit" in out
        code, out, err = _run(env, ("vulns", "map", "set", "mc", MC_CPE))
        assert (code, out) == (1, "") and "wants an account for changes" in err
