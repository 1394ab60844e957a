"""``repotrack load vulns`` and ``repotrack vulns ...`` as a user runs them (in-process)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repotrack.cli.main import app
from repotrack.store import open_store
from tests.conftest import need_fixtures
from tests.unit.security.world import BRANCH, build_world
from tests.unit.store.storeutil import fresh_store_url

runner = CliRunner()


@pytest.fixture
def world_url(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> str:
    url = fresh_store_url(tmp_path_factory, tmp_path / "store")
    with open_store(url) as store:
        build_world(store, tmp_path)
    return url


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_match_then_ask_about_a_package_and_a_cve(world_url: str) -> None:
    code, out, _ = run("vulns", "match", "-b", BRANCH, "--store", world_url)
    assert code == 0 and out.startswith(f"{BRANCH}: full rematch (rpm order) of 8 vulnerabilities")
    code, out, _ = run(
        "vulns", "package", "squid", "-b", BRANCH, "-f", "json", "--store", world_url
    )
    (verdict,) = json.loads(out)
    assert (verdict["status"], verdict["reason"], verdict["vuln_id"]) == (
        "fixed",
        "changelog",
        "CVE-2025-62168",
    )
    assert {e["kind"] for e in verdict["evidence"]} == {"changelog", "range"}
    code, out, _ = run("vulns", "cve", "CVE-2021-36370", "--store", world_url)
    assert code == 0 and "mc 4.8.21-alt1\tCVE-2021-36370\tvulnerable\t(range)" in out
    code, out, _ = run("vulns", "open", "-b", BRANCH, "--store", world_url)
    assert out.splitlines()[-1] == "3 verdict(s)"  # mc, tukit, xz
    code, out, _ = run("vulns", "fixed", "CVE-2025-62168", "--store", world_url)
    assert out.strip() == f"{BRANCH}\tfirst fixed: squid 6.10-alt1\topen: -"


def test_alt_order_from_settings(world_url: str, tmp_path: Path) -> None:
    config = tmp_path / "repotrack.toml"
    config.write_text(f'[vulns]\nbranch_orders = {{ {BRANCH} = "alt" }}\n')
    code, out, _ = run(
        "--config", str(config), "vulns", "match", "-b", BRANCH, "--store", world_url
    )
    assert code == 0 and "(alt order)" in out
    code, out, _ = run("vulns", "package", "tukit", "-b", BRANCH, "--store", world_url)
    assert "\tfixed\t(newer_version)" in out


def test_settings_name_a_branch_in_any_case(world_url: str, tmp_path: Path) -> None:
    """``P10`` is the branch loads store as ``p10``: before 2026-12-07 this setting
    silently left the branch in rpm's order (tukit then stayed vulnerable)."""
    config = tmp_path / "repotrack.toml"
    config.write_text('[vulns]\nbranch_orders = { P10 = "alt" }\n')
    code, out, _ = run(
        "--config", str(config), "vulns", "match", "-b", BRANCH, "--store", world_url
    )
    assert code == 0 and "(alt order)" in out
    code, out, _ = run("vulns", "package", "tukit", "-b", "P10", "--store", world_url)
    assert "\tfixed\t(newer_version)" in out


def test_a_branch_not_matched_or_not_loaded_is_no_empty_answer(world_url: str) -> None:
    """ "0 verdict(s)" reads as "nothing open"; a branch with no rematch has no answer."""
    code, _, err = run("vulns", "open", "-b", BRANCH, "--store", world_url)
    assert (code, err.strip()) == (
        1,
        f"NotFoundError: branch {BRANCH} has not been matched yet: "
        f"run `repotrack vulns match -b {BRANCH}`",
    )
    code, _, err = run("vulns", "open", "-b", "p11", "--store", world_url)
    assert (code, err.strip()) == (1, "NotFoundError: no package set of branch p11")
    code, out, _ = run("vulns", "match", "-b", "P10", "--store", world_url)
    assert code == 0 and out.startswith(f"{BRANCH}: full rematch")
    code, out, _ = run("vulns", "open", "-b", "P10", "--store", world_url)
    assert code == 0 and out.splitlines()[-1] == "3 verdict(s)"


def test_load_reports_bad_records_and_exits_2(world_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    good = need_fixtures("cve", "osv", "almalinux", "ALSA-2023:4520.json")
    code, out, err = run("load", "vulns", "osv", str(good), str(bad), "--store", world_url)
    assert code == 2
    assert out.startswith("osv: 2 file(s), 1 record(s): 1 written")
    assert err.strip() == f"InputError: {bad}: malformed JSON at line 1 column 2: " + (
        "Expecting property name enclosed in double quotes"
    )
    code, out, _ = run("load", "vulns", "osv", str(good), "--store", world_url)
    assert code == 0 and "0 written" in out and "1 already loaded" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("vulns", "map", "set", "mc", "cpe:/a:x:y"), "InputError: result: "),
        (("vulns", "triage", "CVE-2021-36370", "mc", "-s", "maybe"), "InputError: status: "),
        (("vulns", "triage", "nonsense", "mc", "-s", "fixed"), "InputError: vuln_id: "),
        (("load", "vulns", "nope", "x"), "InputError: source: unknown vulnerability source"),
        (("vulns", "package", "mc", "-b", BRANCH, "-s", "bad"), "InputError: status: "),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    world_url: str, args: tuple[str, ...], message: str
) -> None:
    code, _, err = run(*args, "--store", world_url)
    assert code == 2
    assert err.startswith(message) and len(err.strip().splitlines()) == 1


def test_a_triage_of_a_typo_is_refused_and_forced_is_recorded(world_url: str) -> None:
    """A decision that no rematch could apply is not printed back as done (exit 1)."""
    args = ("vulns", "triage", "CVE-2024-3094", "xzz", "-s", "not_affected", "-b", BRANCH)
    code, out, err = run(*args, "--store", world_url)
    assert (code, out) == (1, "")
    assert err.strip() == (
        "NotFoundError: no source package xzz in p10 (--force records it anyway, "
        "for one not loaded yet)"
    )
    code, out, _ = run(*args, "--force", "--store", world_url)
    assert (code, out.strip()) == (0, "CVE-2024-3094 xzz [p10]: not_affected")


def test_mapping_round_trip(world_url: str) -> None:
    cpe = "cpe:2.3:a:gnu:wget:*:*:*:*:*:*:*:*"
    assert (
        run("vulns", "map", "set", "wget", cpe, "-r", "upstream name", "--store", world_url)[0] == 0
    )
    _, out, _ = run("vulns", "map", "list", "-p", "wget", "--store", world_url)
    assert out.strip() == f"wget\tcpe\t{cpe}\tmanual"
    assert run("vulns", "map", "unset", "wget", cpe, "--store", world_url)[0] == 0
    assert run("vulns", "map", "list", "-p", "wget", "--store", world_url)[1] == ""
    with open_store(world_url) as store:
        history = store.query(
            "SELECT pnc_state, pncc_reason FROM PncChangeHistory "
            "WHERE pkg_name = 'wget' ORDER BY ts"
        )
    assert [tuple(h) for h in history] == [("active", "upstream name"), ("inactive", "")]


def test_errata_build_and_list(world_url: str) -> None:
    code, out, _ = run("vulns", "errata", "build", "-b", BRANCH, "--store", world_url)
    assert code == 0 and out.startswith(f"{BRANCH}: 1 new, 0 new version(s), 0 unchanged")
    assert out.rstrip().endswith("advisories: 1 new, 0 new version(s)")
    code, out, _ = run(
        "vulns", "errata", "list", "-b", BRANCH, "--from", "2000-01-01", "--to", "2100-01-01",
        "--store", world_url,
    )  # fmt: skip
    lines = out.splitlines()
    assert len(lines) == 3 and "squid 6.10-alt1\tCVE-2025-62168" in out  # PU, BU, SA
    (advisory,) = [line for line in lines if "\tALT-SA-" in line]
    assert advisory.endswith("\tCVE-2025-62168 ALT-PU-" + lines[1].split("ALT-PU-")[1].split()[0])
    code, _, err = run(
        "vulns", "errata", "list", "-b", BRANCH, "--from", "2024-13-01", "--to", "2025-01-01",
        "--store", world_url,
    )  # fmt: skip
    assert code == 2 and err.startswith("InputError: --from: expected a date")


def test_export_writes_files(world_url: str, tmp_path: Path) -> None:
    run("vulns", "match", "-b", BRANCH, "--store", world_url)
    out = tmp_path / "csaf"
    code, text, _ = run(
        "vulns", "export", "-b", BRANCH, "-f", "csaf", "-o", str(out), "--store", world_url
    )
    assert code == 0 and text.strip() == f"{BRANCH}: 8 csaf file(s) in {out}"
    code, _, err = run(
        "vulns", "export", "-b", BRANCH, "-f", "osv", "-o", str(out), "--store", world_url
    )
    assert code == 2 and "has no OSV ecosystem" in err


def test_show_links_bdu_and_advisories_to_the_cve(world_url: str) -> None:
    from tests.conftest import DATA

    code, _, _ = run(
        "load", "vulns", "bdu", str(DATA / "vulns" / "bdu-export.xml"), "--store", world_url
    )
    assert code == 2  # two of the three records are malformed on purpose
    code, out, _ = run("vulns", "show", "CVE-2025-62168", "-f", "json", "--store", world_url)
    info = json.loads(out)
    assert (info["source"], info["ranges"], info["linked"]) == ("nvd", 1, ["BDU:2021-04321"])
    code, out, _ = run("vulns", "show", "BDU:2021-04321", "--store", world_url)
    assert code == 0 and "linked: CVE-2025-62168" in out
    code, _, err = run("vulns", "show", "CVE-1999-0001", "--store", world_url)
    assert code == 1 and err.startswith("NotFoundError: no vulnerability CVE-1999-0001")


def test_cpe_match_feed_and_the_mapping_check(world_url: str) -> None:
    page = Path(__file__).parents[2] / "data" / "vulns" / "cpematch-2.0-page.json"
    code, out, err = run("load", "vulns", "cpematch", str(page), "--store", world_url)
    assert code == 2  # one entry without criteria
    assert out.strip() == (
        "cpematch: 1 file(s), 3 match string(s): 3 written (1 inactive), 0 already loaded"
    )
    assert err.strip() == (f"InputError: {page}: match[2]: criteria is missing or not a string")
    code, out, _ = run("vulns", "map", "check", "-p", "squid", "--store", world_url)
    assert (code, out.splitlines()) == (
        0,
        [
            "squid\tcpe:2.3:a:squid-cache:squid:*:*:*:*:*:*:*:*\tknown\t1 range(s), 1 criteria, "
            "2 CPE name(s)",
            "1 mapping(s), 0 naming a product NVD does not list",
        ],
    )
    code, out, _ = run("vulns", "map", "repology", "--store", world_url)
    assert (code, out.strip()) == (
        0,
        "repology: 0 mapping(s) added, 0 dropped, 0 package(s) kept to their manual mappings",
    )
    code, _, err = run("load", "vulns", "nope", str(page), "--store", world_url)
    assert code == 2 and "cpematch" in err


def test_map_ecosystem_prints_what_it_wrote(world_url: str) -> None:
    args = ("vulns", "map", "ecosystem", "-b", BRANCH, "AlmaLinux:8", "--store", world_url)
    code, out, err = run(*args)
    lines = out.splitlines()
    assert code == 0 and "+ squid\tosv:AlmaLinux:8/squid" in lines
    assert err.strip() == (
        "warning: no loaded record names stream 'AlmaLinux:8'; the streams they name: none "
        "(load OSV, CSAF or OVAL records first)"
    )
    added = [line for line in lines if line.startswith("+ ")]
    assert (
        lines[-1]
        == f"AlmaLinux:8: {len(added)} mapping(s) added, 0 already there, 0 unset by hand left out"
    )
    code, out, _ = run(*args)
    assert (code, out.strip()) == (
        0,
        f"AlmaLinux:8: 0 mapping(s) added, {len(added)} already there, 0 unset by hand left out",
    )
    code, _, err = run("vulns", "map", "ecosystem", "-b", "nosuch", "X", "--store", world_url)
    assert code != 0 and "nosuch" in err


def test_load_alt_manual_checks(world_url: str, tmp_path: Path) -> None:
    from tests.conftest import need_fixtures

    seed = need_fixtures("cve", "alt", "CveChecked-initial.json")
    code, out, err = run("load", "vulns", "cvechecked", str(seed), "--store", world_url)
    assert (code, out.strip(), err) == (
        0,
        "cvechecked: 1 file(s), 134 check(s): 134 written, 0 already loaded",
        "",
    )
    bad = tmp_path / "checks.json"
    bad.write_text(seed.read_text(encoding="utf-8").splitlines()[0].replace("patched", "done"))
    code, out, err = run("load", "vulns", "cvechecked", str(bad), "--store", world_url)
    assert code == 2 and "0 written" in out
    assert err.strip() == (
        f"InputError: {bad}: line 1: cc_status 'done' is none of patched, manually_excluded"
    )


def _json_chunks(dictionary: Path) -> list[bytes]:
    """The XML fixture's items written as NVD's CPE 2.0 feed writes products (two chunks),
    converted here with ElementTree, independently of the reader."""
    import xml.etree.ElementTree as ET

    text = dictionary.read_text(encoding="utf-8")
    text = text[: text.index("</cpe-list>") + len("</cpe-list>")]  # the fixture's junk tail
    ns = {"c": "http://cpe.mitre.org/dictionary/2.0",
          "c23": "http://scap.nist.gov/schema/cpe-extension/2.3"}  # fmt: skip
    products = []
    for item in ET.fromstring(text).iterfind("c:cpe-item", ns):  # noqa: S314 (our fixture)
        name = item.find("c23:cpe23-item", ns)
        title = item.find("c:title", ns)
        products.append({"cpe": {
            "cpeName": name.get("name") if name is not None else "",
            "deprecated": item.get("deprecated") == "true",
            "titles": [{"title": title.text if title is not None else "", "lang": "en"}],
        }})  # fmt: skip
    half = len(products) // 2
    return [
        json.dumps({"format": "NVD_CPE", "version": "2.0", "products": part}).encode()
        for part in (products[:half], products[half:])
    ]


def test_map_suggest_reads_nvds_cpe_feed_as_published(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    import io
    import tarfile
    import zipfile

    from tests.unit.store.rows import load_branch_snapshot, package

    xml = need_fixtures("cve", "cpe", "official-cpe-dictionary_v2.3.xml")
    feed = tmp_path / "nvdcpe-2.0.tar.gz"
    with tarfile.open(feed, "w:gz") as archive:
        for n, chunk in enumerate(_json_chunks(xml), 1):
            info = tarfile.TarInfo(f"nvdcpe-2.0-chunks/nvdcpe-2.0-chunk-{n:05d}.json")
            info.size = len(chunk)
            archive.addfile(info, io.BytesIO(chunk))
    zipped = tmp_path / "official-cpe-dictionary_v2.3.xml.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(xml, xml.name)
    url = fresh_store_url(tmp_path_factory, tmp_path / "store")
    with open_store(url) as store:
        uwsgi = package(501, "uwsgi", "2.0.21", source=True)
        load_branch_snapshot(store, BRANCH, datetime(2026, 12, 1, tzinfo=UTC), [uwsgi], [])
    for dictionary in (feed, zipped):
        args = ("vulns", "map", "suggest", "-b", BRANCH, "--cpe-dictionary", str(dictionary))
        code, out, _ = run(*args, "--dry-run", "--store", url)
        raw = xml.read_text()
        entries = raw.count("<cpe-item ") - raw.count('deprecated="true"')
        assert (code, out.splitlines()) == (
            0,
            [
                "uwsgi\tcpe:2.3:a:unbit:uwsgi:*:*:*:*:*:*:*:*",
                f"1 candidate(s) printed from {entries} dictionary entries",
            ],
        ), dictionary


def test_a_store_of_an_older_release_is_brought_up_to_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embedded store belongs to this installation: after an upgrade, the first
    command that opens it applies the new migrations, reads and rematches included, as
    loads and the service already did. Before 2026-12-07 `vulns match`, `vulns fixed` and
    the `query` and `vulns` reads failed on a store one release older with the engine's
    "No such column pvv_since" or "Unknown table VulnBuildVerdicts"."""
    from repotrack.store import migrate, migrations

    shipped = migrations.available_migrations
    url = f"chdb://{tmp_path / 'store'}"
    with monkeypatch.context() as older:  # the release before migration 0019
        older.setattr(
            migrations, "available_migrations", lambda: [m for m in shipped() if m.version < 19]
        )
        with open_store(url) as store:
            assert migrate(store)[-1] == "0018_csaf_revisions"
            build_world(store, tmp_path)

    code, out, err = run("db", "status", "--store", url)  # reports, and changes nothing
    assert (code, out.splitlines()[-1]) == (0, "2 pending: run 'repotrack db migrate'"), err
    code, out, err = run("vulns", "cve", "CVE-2025-62168", "--store", url)  # a read first
    assert (code, out.strip()) == (0, "0 verdict(s)"), err
    code, out, err = run("vulns", "match", "-b", BRANCH, "--store", url)
    assert code == 0, err
    code, out, err = run("vulns", "fixed", "CVE-2025-62168", "--store", url)
    assert (code, out.strip()) == (0, f"{BRANCH}\tfirst fixed: squid 6.10-alt1\topen: -"), err
    with open_store(url) as store:
        assert migrate(store) == []
