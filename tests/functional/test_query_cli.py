"""``repotrack db ...`` and ``repotrack query ...`` as a user runs them (real chDB)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repotrack.cli.main import app
from repotrack.store import open_store
from tests.unit.store.storeutil import fresh_store_url


@pytest.fixture
def home() -> Path:
    return Path(os.environ["REPOTRACK_HOME"])


@pytest.fixture
def loaded_home(tmp_path_factory: pytest.TempPathFactory, home: Path) -> Path:
    """The default store (REPOTRACK_HOME/store) holding two p10 snapshots."""
    fresh_store_url(tmp_path_factory, home / "store", loaded=True)
    return home


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_db_init_status_seed_migrate(home: Path) -> None:
    code, out, _ = run("db", "init")
    assert code == 0, out
    assert "applied 0001_packages" in out
    assert (home / "store").is_dir()
    code, out, _ = run("db", "status")
    assert code == 0 and "pending" not in out and "vulnerabilities" in out
    code, out, _ = run("db", "seed")
    assert code == 0 and "license aliases:" in out and " 0 added" not in out
    code, out, _ = run("db", "seed")
    assert "0 added" in out
    code, out, _ = run("db", "migrate")
    assert code == 0 and "schema is up to date" in out
    assert "state database at revision" in out
    with open_store(f"chdb://{home / 'store'}") as store:
        rows = store.query("SELECT spdx_id FROM LicenseAliases WHERE alias = 'GPLv2+'")
    assert rows == [("GPL-2.0-or-later",)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("db", "init", "--store", "mysql://h/db"), "unknown scheme mysql://"),
        (("db", "status", "--store", "chdb://relative"), "expected chdb:///absolute/path"),
        (("query", "packages", "--branch", "p10", "--date", "2024-02-30"), "--date"),
        (("query", "diff", "p10", "2024-05-01", "june"), "TO"),
        (("query", "packages", "--branch", "p10", "--limit", "0"), "limit"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    loaded_home: Path, args: tuple[str, ...], message: str
) -> None:
    code, _, err = run(*args)
    assert code == 2
    assert message in err
    assert err.startswith("InputError:")


def test_query_packages_table_and_json(loaded_home: Path) -> None:
    code, out, _ = run("query", "packages", "--branch", "p10", "--date", "2024-05-01")
    assert code == 0, out
    assert "p10 2024-05-01" in out and "5 of 5 package(s)" in out
    code, out, _ = run(
        "query",
        "packages",
        "--branch",
        "p10",
        "--date",
        "2024-06-15",
        "--arch",
        "x86_64",
        "--name",
        "lib*",
        "--format",
        "json",
    )
    data = json.loads(out)
    assert data["total"] == 1
    assert [(p["name"], p["evr"]) for p in data["packages"]] == [("libfoo", "1.0-alt1")]
    assert data["package_set"]["date"] == "2024-06-01T00:00:00+00:00"


def test_query_package(loaded_home: Path) -> None:
    code, out, _ = run("query", "package", "foo", "--branch", "p10")
    assert code == 0, out
    assert "foo 1.10-alt1 x86_64" in out
    assert "file: /usr/bin/foo" in out
    assert "require: libfoo 1.0" in out
    code, out, _ = run(
        "query", "package", "foo", "--branch", "p10", "--date", "2024-05-02", "-f", "json"
    )
    builds = json.loads(out)["builds"]
    assert {b["package"]["version"] for b in builds} == {"1.0"}
    code, _, err = run("query", "package", "nope", "--branch", "p10")
    assert code == 1 and err.startswith("NotFoundError: package nope is not in p10")


def test_query_diff(loaded_home: Path) -> None:
    code, out, _ = run("query", "diff", "p10", "2024-05-01", "2024-06-01")
    assert code == 0, out
    assert "~ foo x86_64: 1.0-alt1 -> 1.10-alt1" in out
    assert "+ baz 0.1-alt1 x86_64" in out
    assert "- bar 2.0-alt1 noarch" in out
    assert "2 added, 2 removed, 2 updated" in out
    code, out, _ = run("query", "diff", "p10", "2024-05-01", "2024-06-01", "--format", "json")
    data = json.loads(out)
    assert [u["direction"] for u in data["updated"]] == [1, 1]
    code, _, err = run("query", "diff", "p9", "2024-05-01", "2024-06-01")
    assert code == 1 and "no package set of branch p9" in err


def test_query_packages_reads_past_one_page(
    loaded_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--all`` and a ``--limit`` above one page read every page (pages of 2 here, of
    10 000 in use): the rows are the one-page listing's, in its order. Before 2026-12-07
    a command showed at most 10 000 packages, a quarter of a Sisyphus."""
    from repotrack.cli.query import PAGE
    from repotrack.store import MAX_LIMIT

    assert PAGE == MAX_LIMIT
    code, out, _ = run("query", "packages", "-b", "p10", "-d", "2024-06-15", "-f", "json")
    whole = json.loads(out)
    assert code == 0 and whole["total"] == 5 and len(whole["packages"]) == 5
    monkeypatch.setattr("repotrack.cli.query.PAGE", 2)
    code, out, _ = run("query", "packages", "-b", "p10", "-d", "2024-06-15", "-f", "json", "--all")
    assert code == 0 and json.loads(out) == whole
    code, out, _ = run(
        "query", "packages", "-b", "p10", "-d", "2024-06-15", "-f", "json",
        "--limit", "3", "--offset", "2",
    )  # fmt: skip
    assert json.loads(out)["packages"] == whole["packages"][2:5]
    code, out, _ = run(
        "query", "packages", "-b", "p10", "-d", "2024-06-15", "-f", "json", "--all",
        "--offset", "4",
    )  # fmt: skip
    assert json.loads(out)["packages"] == whole["packages"][4:]


def test_a_listing_that_meets_a_newer_snapshot_starts_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from repotrack.cli.query import paged
    from repotrack.errors import ConflictError

    monkeypatch.setattr("repotrack.cli.query.PAGE", 2)
    rows = ["a", "b", "c", "d", "e"]
    published = iter(["s1", "s2", "s2", "s2", "s2", "s2"])  # s2 published after page 1

    def page(size: int, start: int) -> dict[str, object]:
        return {"package_set": next(published), "total": 5, "packages": rows[start : start + size]}

    assert paged(page, limit=None, offset=0)["packages"] == rows  # s1's page dropped

    def always_newer(size: int, start: int) -> dict[str, object]:
        return {"package_set": start, "total": 5, "packages": rows[start : start + size]}

    with pytest.raises(ConflictError, match="newer snapshot"):
        paged(always_newer, limit=None, offset=0)


def test_a_diff_from_the_service_is_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """``/api/v1/diff`` pages each list; the command reads them all (pages of 2 here).
    Before 2026-12-07 a diff of more than 10 000 updates said "10000 updated" when the
    service held the store, and all of them with the store opened locally."""
    from repotrack.cli.query import diff_pages

    monkeypatch.setattr("repotrack.cli.query.PAGE", 2)
    whole = {"added": list("abcde"), "removed": ["r"], "updated": list("uvw")}
    asked = []

    def get(params: dict[str, int]) -> dict[str, object]:  # the route's slicing
        asked.append(params["offset"])
        start, size = params["offset"], params["limit"]
        body: dict[str, object] = {"old_set": "s1", "new_set": "s2", **params}
        for key, rows in whole.items():
            body[key], body[f"{key}_total"] = rows[start : start + size], len(rows)
        return body

    assert diff_pages(get) == {"old_set": "s1", "new_set": "s2", **whole}
    assert asked == [0, 2, 4]
