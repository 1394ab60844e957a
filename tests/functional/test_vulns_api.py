"""``/api/v1/vulns`` over HTTP: the real service on the hand-checked world (real chDB)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from repotrack.passwords import hash_password
from repotrack.store import open_store
from tests.functional.server import running_server
from tests.unit.security.world import BRANCH, build_world
from tests.unit.store.storeutil import fresh_store_url

AUTH = ("admin", "Passw0rd~")
FAST = {"password_hash": hash_password(AUTH[1], iterations=1000)}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    tmp_path = tmp_path_factory.mktemp("vulns-api")
    url = fresh_store_url(tmp_path_factory, tmp_path / "server-home" / "store")
    with open_store(url) as store:
        build_world(store, tmp_path)
    with (
        running_server(tmp_path, tls=False, password=AUTH[1], service=FAST) as server,
        server.client() as http,
    ):
        yield http


def test_rematch_then_read_verdicts(client: httpx.Client) -> None:
    assert client.post("/api/v1/vulns/match", json={"branch": BRANCH}).status_code == 401
    answer = client.post("/api/v1/vulns/match", json={"branch": BRANCH}, auth=AUTH)
    assert answer.status_code == 200 and answer.json()["verdicts"] == 8
    squid = client.get("/api/v1/vulns/package", params={"branch": BRANCH, "name": "squid"})
    (verdict,) = squid.json()
    assert (verdict["status"], verdict["reason"]) == ("fixed", "changelog")
    opened = client.get("/api/v1/vulns/branch", params={"branch": BRANCH})
    assert sorted(v["pkg_name"] for v in opened.json()) == ["mc", "tukit", "xz"]
    fixed = client.get("/api/v1/vulns/fixed/CVE-2025-62168").json()
    assert fixed == [
        {
            "branch": BRANCH,
            "first_fixed": "squid 6.10-alt1",
            "fixed_packages": ["squid 6.10-alt1"],
            "open_packages": [],
        }
    ]


def test_triage_and_mapping_writes_need_the_account(client: httpx.Client) -> None:
    decision = {
        "vuln_id": "CVE-2021-36370",
        "package": "mc",
        "branch": BRANCH,
        "status": "fixed",
        "reason": "backported by hand",
    }
    assert client.post("/api/v1/vulns/triage", json=decision).status_code == 401
    assert client.post("/api/v1/vulns/triage", json=decision, auth=AUTH).status_code == 200
    client.post("/api/v1/vulns/match", json={"branch": BRANCH}, auth=AUTH)
    mc = client.get("/api/v1/vulns/cve/CVE-2021-36370", params={"branch": BRANCH}).json()
    assert (mc[0]["status"], mc[0]["reason"]) == ("fixed", "triage")
    assert {"kind": "triage", "ref": "admin", "detail": "fixed: backported by hand"} in mc[0][
        "evidence"
    ]
    forced = {**decision, "package": "mc-ng", "force": True}  # not loaded yet
    answer = client.post("/api/v1/vulns/triage", json=forced, auth=AUTH)
    assert (answer.status_code, answer.json()) == (200, forced)
    change = {"package": "wget", "result": "cpe:2.3:a:gnu:wget:*:*:*:*:*:*:*:*"}
    assert client.post("/api/v1/vulns/mappings", json=change, auth=AUTH).status_code == 200
    listed = client.get("/api/v1/vulns/mappings", params={"package": "wget"}).json()
    assert [m["result"] for m in listed] == [change["result"]]


@pytest.mark.parametrize(
    ("method", "path", "payload", "status", "text"),
    [
        (
            "post",
            "/api/v1/vulns/triage",
            {"vuln_id": "CVE-1-1", "package": "mc", "status": "x"},
            422,
            "status",
        ),
        (
            "post",
            "/api/v1/vulns/triage",
            {"vuln_id": "CVE-2021-36370", "package": "mcc", "status": "fixed"},
            404,
            "no source package mcc in any branch",
        ),
        ("post", "/api/v1/vulns/mappings", {"package": "mc", "result": "cpe:/a:b"}, 422, "result"),
        ("post", "/api/v1/vulns/match", {"branch": "p9"}, 404, "no package set of branch p9"),
        ("post", "/api/v1/vulns/match", {"branch": BRANCH, "order": "deb"}, 422, "order"),
        ("get", "/api/v1/vulns/branch", {"branch": BRANCH, "status": "bad"}, 422, "status"),
        ("get", "/api/v1/vulns/fixed/CVE-1999-0001", None, 404, "no verdict names"),
    ],
)
def test_bad_requests_are_json_4xx(
    client: httpx.Client, method: str, path: str, payload: object, status: int, text: str
) -> None:
    if method == "post":
        answer = client.post(path, json=payload, auth=AUTH)
    else:
        answer = client.get(path, params=payload)  # type: ignore[arg-type]
    assert answer.status_code == status
    assert text in str(answer.json()["detail"])


def test_exports_and_errata_over_rest(client: httpx.Client) -> None:
    client.post("/api/v1/vulns/match", json={"branch": BRANCH}, auth=AUTH)
    csaf = client.get(f"/api/v1/vulns/export/{BRANCH}", params={"format": "csaf"})
    assert csaf.status_code == 200 and len(csaf.json()) == 8
    osv = client.get(
        f"/api/v1/vulns/export/{BRANCH}", params={"format": "osv", "ecosystem": "openEuler:24.03"}
    )
    assert osv.status_code == 200 and {r["id"][:12] for r in osv.json()} == {"x_repotrack-"}
    oval = client.get(f"/api/v1/vulns/export/{BRANCH}", params={"format": "oval"})
    assert oval.headers["content-type"].startswith("application/xml")
    assert b"<oval_definitions" in oval.content or b":oval_definitions" in oval.content
    no_eco = client.get(f"/api/v1/vulns/export/{BRANCH}", params={"format": "osv"})
    assert no_eco.status_code == 422 and "has no OSV ecosystem" in no_eco.json()["detail"]
    errata = client.get(
        "/api/v1/vulns/errata", params={"branch": BRANCH, "from": "2000-01-01", "to": "2100-01-01"}
    )
    assert (errata.status_code, errata.json()["detail"]) == (  # never built: no answer
        404,
        f"no errata of {BRANCH} were built: run `repotrack vulns errata build -b {BRANCH}`",
    )
