"""Every command, given bad input, ends with one clear line and a documented exit status.

Each case runs the installed console script as a user would. The run fails on any
``Traceback``, on more than one line on stderr, or on another exit status than the one
docs/errors.md documents (2 bad input or configuration, 1 any other failure).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATA

BIN = Path(sys.executable).parent
BAD_SERVER = "http://[::1"
ITEM = (
    "--version_control", "github", "--scm_repo", "o/n", "--scm_branch", "main",
    "--repo", "https://gitee.com/o/n", "--branch", "master", "--enabled", "true",
)  # fmt: skip


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPOTRACK_")}
    env.update(REPOTRACK_HOME=str(home), COLUMNS="300", **extra)
    return env


def _one_line(done: subprocess.CompletedProcess[str], code: int, needle: str) -> None:
    where = f"{done.args}: exit {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}"
    assert "Traceback" not in done.stdout + done.stderr, where
    assert done.returncode == code, where
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, where
    assert needle in lines[0], where


HOME_IS_A_FILE = [
    ["repotrack", "serve"],
    ["repotrack", "track", "status"],
    ["repotrack", "track", "run", "--once"],
    ["repotrack", "query", "packages", "--branch", "p10"],
    ["repotrack", "db", "status"],
    ["repotrack", "db", "init"],
    ["repotrack", "config", "show"],
    ["repotrack", "gen-cert"],
    ["repotrack", "load", "repo", "p10", str(DATA / "rpms"), "--date", "2024-05-01"],
]


@pytest.mark.slow
@pytest.mark.parametrize("args", HOME_IS_A_FILE, ids=[" ".join(a[1:4]) for a in HOME_IS_A_FILE])
def test_home_is_a_regular_file(tmp_path: Path, args: list[str]) -> None:
    home = tmp_path / "home-file"
    home.write_text("not a directory\n")
    done = _run(args, _env(home), tmp_path)
    _one_line(done, 2, "is not a directory")


MALFORMED_SERVER = [
    ["repotrack", "track", "add", "--server", BAD_SERVER, *ITEM],
    ["repotrack", "track", "query", "--server", BAD_SERVER],
    ["repotrack", "track", "delete", "--server", BAD_SERVER, "--repo", "https://gitee.com/o/n"],
    [
        "repotrack", "load", "repo", "p10", str(DATA / "rpms"), "--date", "2024-05-01",
        "--via-service", "--server", BAD_SERVER,
    ],
    ["patch-tracking-cli", "query", "--server", BAD_SERVER, "--table", "tracking"],
    ["patch-tracking-cli", "add", "--server", BAD_SERVER, "--user", "admin", *ITEM],
    ["patch-tracking-cli", "delete", "--server", BAD_SERVER, "--user", "admin", "--repo", "x/y"],
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("args", MALFORMED_SERVER, ids=[" ".join(a[:3]) for a in MALFORMED_SERVER])
def test_malformed_server_url(tmp_path: Path, args: list[str]) -> None:
    env = _env(tmp_path / "home", REPOTRACK_USER="admin", REPOTRACK_PASSWORD="Passw0rd~")
    done = _run(args, env, tmp_path)
    assert "Traceback" not in done.stderr
    assert done.returncode == 2, done.stderr
    assert "Invalid IPv6 URL" in done.stderr or "malformed" in done.stderr, done.stderr


@pytest.mark.slow
def test_gen_cert_out_missing_directory(tmp_path: Path) -> None:
    out = tmp_path / "no" / "such" / "dir"
    done = _run(
        ["repotrack", "gen-cert", "--out", str(out), "--bits", "2048"], _env(tmp_path), tmp_path
    )
    _one_line(done, 2, "does not exist")
    assert not (tmp_path / "no").exists()


@pytest.mark.slow
def test_gen_cert_out_is_a_file(tmp_path: Path) -> None:
    out = tmp_path / "file"
    out.write_text("x")
    done = _run(
        ["repotrack", "gen-cert", "--out", str(out), "--bits", "2048"], _env(tmp_path), tmp_path
    )
    _one_line(done, 2, "is not a directory")


@pytest.mark.slow
@pytest.mark.parametrize("args", [["track", "status"], ["track", "run", "--once"]])
def test_corrupt_state_database(tmp_path: Path, args: list[str]) -> None:
    home = tmp_path / "state-home"
    home.mkdir()
    (home / "state.sqlite").write_bytes(b"this is not a SQLite file" * 100)
    done = _run(["repotrack", *args], _env(home), tmp_path)
    _one_line(done, 1, "file is not a database")


NEVER_INITIALISED = [
    ["query", "packages", "--branch", "p10"],
    ["query", "package", "foo", "--branch", "p10"],
    ["query", "diff", "p10", "2024-05-01", "2024-06-01"],
    ["db", "status"],
]


@pytest.mark.slow
@pytest.mark.parametrize(
    "args", NEVER_INITIALISED, ids=[" ".join(a[:2]) for a in NEVER_INITIALISED]
)
def test_store_never_initialised(tmp_path: Path, args: list[str]) -> None:
    home = tmp_path / "home"
    done = _run(["repotrack", *args], _env(home), tmp_path)
    _one_line(done, 1, "never initialised")
    assert not (home / "store").exists()


@pytest.mark.slow
def test_serve_on_a_port_in_use(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _run(["repotrack", "serve", "--listen", f"127.0.0.1:{port}"], _env(home), tmp_path)
    _one_line(done, 1, "Address already in use")
    # Bound before anything else: no state database, no store, no scan.
    assert not home.exists() or not any(home.iterdir())


@pytest.mark.slow
def test_unknown_config_key(tmp_path: Path) -> None:
    config = tmp_path / "repotrack.toml"
    config.write_text('[service]\nlistn = "127.0.0.1:5001"\n')
    done = _run(["repotrack", "--config", str(config), "serve"], _env(tmp_path / "h"), tmp_path)
    _one_line(done, 2, "unknown key 'service.listn'")


#: A snapshot directory that is not there. Not /nonexistent itself: programs run with
#: HOME=/nonexistent may create it (rpm as root makes /nonexistent/.rpmdb).
MISSING = "/nonexistent/repotrack-no-such-snapshot"
OTHER_BAD_INPUT = [
    (["repotrack", "load", "repo", "p10", MISSING, "--date", "2024-05-01"], 2, "no such"),
    (["repotrack", "load", "repo", "p10", str(DATA), "--date", "someday"], 2, "--date"),
    (["repotrack", "query", "packages", "--branch", "p10", "--date", "someday"], 2, "--date"),
    (["repotrack", "config", "import-legacy", "/nonexistent/settings.conf"], 2, "cannot read"),
    (["repotrack", "db", "status", "--store", "bogus://x"], 2, "unknown scheme"),
    (["repotrack", "db", "init", "--store", "chdb://relative"], 2, "absolute"),
    (["repotrack", "serve", "--listen", "nowhere"], 2, "listen"),
    (["repotrack", "serve", "--certfile", "/nonexistent", "--keyfile", "/nonexistent"], 2, "cert"),
    (["repo_loader", "p10", MISSING, "-A", "2024-05-01"], 2, "no such"),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "code", "needle"),
    OTHER_BAD_INPUT,
    ids=[" ".join(a[:3]) for a, _c, _n in OTHER_BAD_INPUT],
)
def test_other_bad_input(tmp_path: Path, args: list[str], code: int, needle: str) -> None:
    done = _run(args, _env(tmp_path / "h"), tmp_path)
    _one_line(done, code, needle)


def test_an_unreadable_feed_file_is_one_line(tmp_path: Path) -> None:
    """A damaged file among good ones: the good ones load, stderr holds the problem once
    (no log line besides it), exit 2."""
    import gzip

    from tests.conftest import need_fixtures

    feeds = tmp_path / "feeds"
    feeds.mkdir()
    record = need_fixtures("cve", "nvd-2.0", "records", "CVE-2014-1424.json")
    (feeds / record.name).write_bytes(record.read_bytes())
    (feeds / "cut.json.gz").write_bytes(gzip.compress(record.read_bytes())[:100])
    env = _env(tmp_path / "home")
    assert _run(["repotrack", "db", "init"], env, tmp_path).returncode == 0
    done = _run(["repotrack", "load", "vulns", "nvd", str(feeds)], env, tmp_path)
    _one_line(done, 2, f"InputError: {feeds / 'cut.json.gz'}: cannot read")
    assert "1 written" in done.stdout
