"""``repotrack load vulns`` while ``repotrack serve`` holds the store: the service loads.

Two homes load the same feed directory (two NVD records and one malformed file): one
with its store free, one while a real ``repotrack serve`` process holds it (killed at
the end). The handed-over load must print the same summary line, the same per-record
problems and end with the same exit status; so must the second, idempotent run.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from repotrack.passwords import hash_password
from tests.conftest import need_fixtures
from tests.functional.test_load_handoff import PASSWORD, _free_port
from tests.functional.test_query_via_service import _env, _run, _serving
from tests.unit.store.storeutil import fresh_store_url


def _problems(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("InputError:")]


@pytest.mark.slow
def test_a_handed_over_load_prints_what_a_local_one_does(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    records = need_fixtures("cve", "nvd-2.0", "records")
    feed = tmp_path / "feed"
    feed.mkdir()
    for name in ("CVE-2021-36370.json", "CVE-2024-3094.json"):
        shutil.copy(records / name, feed / name)
    (feed / "broken.json").write_text('{"vulnerabilities": [', encoding="utf-8")
    local_home, served_home = tmp_path / "local", tmp_path / "served"
    fresh_store_url(tmp_path_factory, local_home / "store")
    fresh_store_url(tmp_path_factory, served_home / "store")
    args = ("load", "vulns", "nvd", str(feed))

    local_env = _env(local_home, _free_port())
    local = [_run(local_env, args), _run(local_env, args)]
    assert [code for code, _, _ in local] == [2, 2]
    assert local[0][1].startswith("nvd: 3 file(s), 2 record(s): 2 written")
    assert "2 already loaded" in local[1][1]
    assert _problems(local[0][2]) == [
        f"InputError: {feed / 'broken.json'}: malformed JSON at line 1 column 22: Expecting value"
    ]

    port = _free_port()
    env = _env(served_home, port)
    env.update(
        REPOTRACK_SERVICE__PASSWORD_HASH=hash_password(PASSWORD, iterations=1000),
        REPOTRACK_LOADS__ALLOWED_ROOTS=json.dumps([str(tmp_path)]),
    )
    with_account = dict(env, REPOTRACK_PASSWORD=PASSWORD)
    with _serving(env, port, tmp_path / "serve.log"):
        served = [_run(with_account, args), _run(with_account, args)]
        for (code, out, err), (local_code, local_out, local_err) in zip(served, local, strict=True):
            assert (code, out) == (local_code, local_out), err
            assert _problems(err) == _problems(local_err)
            assert f"handed the load to the repotrack service at http://127.0.0.1:{port}" in err
        # Without the account the load is refused with the way to hand it over.
        code, out, err = _run(env, args)
        assert (code, out) == (1, "") and "REPOTRACK_PASSWORD" in err
        # A path outside [loads] allowed_roots is refused by the service.
        code, out, err = _run(with_account, ("load", "vulns", "nvd", str(records)))
        assert (code, out) == (2, "") and "allowed_roots" in err
    # The service's load is in its store: a local run now finds every record loaded.
    code, out, _ = _run(env, ("load", "vulns", "nvd", str(feed / "CVE-2024-3094.json")))
    assert (code, out.strip()) == (
        0,
        "nvd: 1 file(s), 1 record(s): 0 written (0 rejected/withdrawn), 1 already loaded, "
        "0 kept from a stronger source",
    )
