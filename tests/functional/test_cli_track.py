"""patch-tracking-cli and repotrack track against the real server over TLS.

The server (uvicorn, self-signed certificate) runs in a thread; the CLI runs either as
a real subprocess through its console script (at least once per command) or
in-process through ``main(argv)`` where a subprocess would only add start-up time.
Every bad-input case checks with a GET that the database did not change.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from repotrack.cli import patch_tracking_cli
from tests.functional.server import ServerHandle, running_server
from tests.unit.cli.git_daemon import git_daemon, make_bare_repo

BIN = Path(sys.executable).parent
UPSTREAM = "https://github.com/example/upstream"
DOWNSTREAM = "https://gitee.com/example/downstream"
ITEM = f"""\
version_control: git
scm_repo: {UPSTREAM}
scm_branch: main
repo: {DOWNSTREAM}
branch: master
enabled: true
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerHandle]:
    with running_server(tmp_path) as handle:
        yield handle


def connect(server: ServerHandle) -> list[str]:
    return ["--server", server.host_port, "--cacert", str(server.cafile)]


def auth(server: ServerHandle) -> list[str]:
    assert server.password is not None
    return ["--user", server.user, "--password", server.password]


def direct(branch: str = "master", **changes: str) -> list[str]:
    fields = {
        "version_control": "git",
        "scm_repo": UPSTREAM,
        "scm_branch": "main",
        "repo": DOWNSTREAM,
        "branch": branch,
        "enabled": "true",
        **changes,
    }
    return [arg for name, value in fields.items() for arg in (f"--{name}", value)]


def rows(server: ServerHandle) -> list[dict[str, Any]]:
    with server.client() as http:
        answer = http.get("/tracking").json()
    assert answer["code"] == "2001"
    data: list[dict[str, Any]] = answer["data"]
    return sorted(data, key=lambda row: (row["repo"], row["branch"]))


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run patch-tracking-cli in this process; (exit status, stdout + stderr)."""
    with pytest.raises(SystemExit) as caught:
        patch_tracking_cli.main(list(argv))
    captured = capsys.readouterr()
    code = caught.value.code
    return (code if isinstance(code, int) else 1), captured.out + captured.err


def script(
    name: str, *argv: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run an installed console script as a user would."""
    return subprocess.run(
        [str(BIN / name), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_add_query_delete_as_subprocesses(server: ServerHandle) -> None:
    added = script(
        "patch-tracking-cli", "add", *connect(server), *auth(server), *direct(), "--no-check"
    )
    assert (added.returncode, added.stdout, added.stderr) == (0, "Tracking successfully.\n", "")
    assert rows(server) == [
        {
            "version_control": "git",
            "scm_repo": UPSTREAM,
            "scm_branch": "main",
            "scm_commit": None,
            "repo": DOWNSTREAM,
            "branch": "master",
            "enabled": True,
        }
    ]
    shown = script("patch-tracking-cli", "query", *connect(server), "--table", "tracking")
    assert shown.returncode == 0
    assert DOWNSTREAM in shown.stdout and UPSTREAM in shown.stdout
    issues = script("repotrack", "track", "query", *connect(server), "--table", "issue", "--json")
    assert (issues.returncode, json.loads(issues.stdout)) == (0, [])
    gone = script(
        "patch-tracking-cli", "delete", *connect(server), *auth(server), "--repo", DOWNSTREAM
    )
    assert (gone.returncode, gone.stdout) == (0, "Tracking delete successfully.\n")
    assert rows(server) == []


def test_typer_face_add_and_delete_as_subprocesses(server: ServerHandle) -> None:
    env = {"REPOTRACK_PASSWORD": server.password or ""}
    added = script(
        "repotrack", "track", "add", *connect(server), "--user", server.user,
        *direct(), "--scm-commit", "0123abcd", "--no-check", env=env,
    )  # fmt: skip
    assert (added.returncode, added.stdout.strip()) == (0, "Tracking successfully.")
    assert [r["scm_commit"] for r in rows(server)] == ["0123abcd"]
    removed = script(
        "repotrack", "track", "delete", *connect(server), "--user", server.user,
        "--repo", DOWNSTREAM, "--branch", "master", env=env,
    )  # fmt: skip
    assert removed.returncode == 0
    assert rows(server) == []


def test_tls_is_verified_unless_told_otherwise(
    server: ServerHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = cli(capsys, "query", "--server", server.host_port, "--table", "tracking")
    assert code == 1
    assert "TLS certificate verification failed" in output
    assert "--cacert FILE" in output
    code, output = cli(
        capsys, "query", "--server", server.base_url, "--insecure", "--table", "issue"
    )
    assert code == 0


def test_wrong_password_changes_nothing(
    server: ServerHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--user", server.user, "--password", "Wr0ngPass~"]
    code, output = cli(capsys, "add", *connect(server), *argv, *direct(), "--no-check")
    assert (code, output) == (
        1,
        "Authenticate Error. Please make sure user and password are correct.\n",
    )
    assert rows(server) == []
    code, output = cli(capsys, "delete", *connect(server), *argv, "--repo", DOWNSTREAM)
    assert code == 1
    assert output.startswith("Tracking delete failed. Error: ")


def test_delete_of_nothing_and_query_filters(
    server: ServerHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    for branch in ("master", "dev"):
        code, _ = cli(capsys, "add", *connect(server), *auth(server), *direct(branch), "--no-check")
        assert code == 0
    code, output = cli(capsys, "query", *connect(server), "--table", "tracking", "--branch", "dev")
    assert code == 0
    assert " dev " in output and " master " not in output
    code, output = cli(
        capsys, "delete", *connect(server), *auth(server), "--repo", DOWNSTREAM, "--branch", "x"
    )
    assert (code, output) == (1, "Delete Nothing. Tracking not exist.\n")
    assert len(rows(server)) == 2


def test_yaml_file_with_several_items_and_update(
    server: ServerHandle, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "items.yml"
    path.write_text(ITEM + "---\n" + ITEM.replace("master", "dev"))
    code, output = cli(
        capsys, "add", *connect(server), *auth(server), "--file", str(path), "--no-check"
    )
    assert (code, output) == (0, f"Tracking successfully created for {path}\n")
    assert [r["branch"] for r in rows(server)] == ["dev", "master"]
    path.write_text(ITEM.replace("enabled: true", "enabled: false"))
    code, _ = cli(capsys, "add", *connect(server), *auth(server), "--file", str(path), "--no-check")
    assert code == 0
    assert [(r["branch"], r["enabled"]) for r in rows(server)] == [("dev", True), ("master", False)]


BAD_FILES: dict[str, tuple[bytes, str]] = {
    "unknown-key": ((ITEM + "owner: me\n").encode(), "unknown key(s) owner"),
    "missing-key": (
        ITEM.replace("scm_branch: main\n", "").encode(),
        "missing or empty key(s): scm_branch",
    ),
    "wrong-type": (
        ITEM.replace("branch: master", "branch: [a, b]").encode(),
        "branch: must be a string, got list",
    ),
    "empty-string": (
        ITEM.replace(f"repo: {DOWNSTREAM}", 'repo: ""').encode(),
        "missing or empty key(s): repo",
    ),
    "long-value": (
        ITEM.replace("master", "m" * 10_000).encode(),
        "branch: is 10000 characters long",
    ),
    "non-utf8": (ITEM.encode() + b"# \xff\xfe\n", "offset"),
    "list": (("- " + ITEM.replace("\n", "\n  ")).encode(), "a top-level list is not supported"),
    "bomb": (
        b"a: &a [lol, lol]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n",
        "YAML anchors and aliases are not allowed",
    ),
    "ext-url": (ITEM.replace(UPSTREAM, "'ext::sh -c id'").encode(), "scm_repo: remote helper URLs"),
    "broken": (b"version_control: [git\n", "not valid YAML"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_yaml_file_changes_nothing(
    server: ServerHandle, capsys: pytest.CaptureFixture[str], tmp_path: Path, case: str
) -> None:
    content, expected = BAD_FILES[case]
    path = tmp_path / f"{case}.yaml"
    path.write_bytes(content)
    code, output = cli(
        capsys, "add", *connect(server), *auth(server), "--file", str(path), "--no-check"
    )
    assert code == 2
    assert output.startswith(f"Tracking failed for {path}: ")
    assert expected in output
    assert len(output.splitlines()) == 1
    assert rows(server) == []


def test_directory_of_mixed_files_reports_each_and_adds_the_good_ones(
    server: ServerHandle, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "items"
    folder.mkdir()
    (folder / "a.yaml").write_text(ITEM)
    (folder / "b.yml").write_text(ITEM.replace("master", "dev"))
    (folder / "c.txt").write_text(ITEM.replace("master", "txt"))
    (folder / "d.yaml").write_text("version_control: [git\n")
    (folder / "e.yaml").write_bytes(BAD_FILES["bomb"][0])
    (folder / "sub").mkdir()
    (folder / "sub" / "f.yaml").write_text(ITEM.replace("master", "nested"))
    code, output = cli(
        capsys, "add", *connect(server), *auth(server), "--dir", str(folder), "--no-check"
    )
    assert code == 1
    lines = output.splitlines()
    assert f"Tracking successfully created for {folder / 'a.yaml'}" in lines
    assert f"Tracking successfully created for {folder / 'b.yml'}" in lines
    assert "Please input yaml file. Error in c.txt" in lines
    assert "Please input yaml file. Error in sub" in lines
    assert any(
        line.startswith(f"Tracking failed for {folder / 'd.yaml'}: line 2") for line in lines
    )
    assert any("e.yaml: line 1: YAML anchors" in line for line in lines)
    assert len(lines) == 6
    assert [r["branch"] for r in rows(server)] == ["dev", "master"]


@pytest.fixture
def git_repos(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "repos"
    root.mkdir()
    make_bare_repo(root, "upstream.git", "main")
    make_bare_repo(root, "downstream.git", "master")
    with git_daemon(root) as url:
        yield url


def test_branch_checks_with_git_ls_remote(
    server: ServerHandle, capsys: pytest.CaptureFixture[str], git_repos: str
) -> None:
    up, down = f"{git_repos}/upstream.git", f"{git_repos}/downstream.git"
    base = [*connect(server), *auth(server)]
    code, output = cli(capsys, "add", *base, *direct(scm_repo=up, repo=down, scm_branch="nope"))
    assert (code, output) == (1, f"Branch: nope not exist. ({up})\n")
    code, output = cli(capsys, "add", *base, *direct(scm_repo=up, repo=f"{git_repos}/gone.git"))
    assert code == 1
    assert output.startswith(f"Git url: {git_repos}/gone.git error.")
    assert rows(server) == []
    code, output = cli(capsys, "add", *base, *direct(scm_repo=up, repo=down))
    assert (code, output) == (0, "Tracking successfully.\n")
    assert [r["repo"] for r in rows(server)] == [down]


@pytest.mark.services
def test_core_flow_on_postgresql(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_server(tmp_path, state_url=postgres_url) as server:
        code, _ = cli(capsys, "add", *connect(server), *auth(server), *direct(), "--no-check")
        assert code == 0
        code, _ = cli(
            capsys, "add", *connect(server), *auth(server), *direct(enabled="False"), "--no-check"
        )
        assert code == 0
        assert [(r["branch"], r["enabled"]) for r in rows(server)] == [("master", False)]
        code, output = cli(capsys, "query", *connect(server), "--table", "tracking")
        assert code == 0 and DOWNSTREAM in output
        code, _ = cli(capsys, "delete", *connect(server), *auth(server), "--repo", DOWNSTREAM)
        assert code == 0
        assert rows(server) == []


def test_track_defaults_to_the_configured_service(server: ServerHandle) -> None:
    """No --server: the service this machine's settings describe (listen, its certificate)."""
    env = {
        "REPOTRACK_PASSWORD": server.password or "",
        "REPOTRACK_SERVICE__LISTEN": server.host_port,
        "REPOTRACK_SERVICE__CERTFILE": str(server.cafile),
        "REPOTRACK_SERVICE__KEYFILE": str(server.cafile),
    }
    added = script(
        "repotrack", "track", "add", "--user", server.user, *direct(), "--no-check", env=env
    )
    assert (added.returncode, added.stdout.strip()) == (0, "Tracking successfully."), added.stderr
    shown = script("repotrack", "track", "query", "--json", env=env)
    assert [row["repo"] for row in json.loads(shown.stdout)] == [DOWNSTREAM]


def test_tls_against_plain_http_says_to_use_http(tmp_path: Path) -> None:
    with running_server(tmp_path, tls=False) as plain:
        https = f"https://{plain.host_port}"
        shown = script("repotrack", "track", "query", "--server", https)
        legacy = script(
            "patch-tracking-cli", "query", "--server", plain.host_port, "--table", "tracking"
        )
    for done in (shown, legacy):
        assert done.returncode == 1
        assert "use an http:// URL" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
