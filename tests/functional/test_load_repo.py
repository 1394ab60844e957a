"""``repotrack load repo`` and ``repo_loader`` as a user runs them: real processes, real chDB.

Covers: load, reload ("already loaded", exit 1), --force (0 new), the original's
options and config.ini, each bad-input error as one line with a non-zero exit, a
store locked by another process, and a loader killed mid-load (nothing half
published; running it again finishes the job).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from repotrack.store import open_store
from tests.conftest import DATA, FIXTURES, need_tool
from tests.unit.sources.treeutil import build_trees

BIN = Path(sys.executable).parent
SUMMARY = re.compile(
    r"^p10 2024-05-01: (\d+) packages \((\d+) new, (\d+) known"
    r"(?:, \d+ bad left out)?\), (\d+) file rows"
)


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_trees(tmp_path_factory.mktemp("trees"))


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPOTRACK_")}
    env["REPOTRACK_HOME"] = str(home)
    env["COLUMNS"] = "400"  # Rich wraps stderr at 80 columns when it is not a terminal
    return env


def _run(args: list[str], home: Path, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, env=_env(home), capture_output=True, text=True, timeout=240, check=False, **kw
    )


def repotrack(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _run([str(BIN / "repotrack"), *args], home)


def repo_loader(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _run([str(BIN / "repo_loader"), *args], home)


def _roots(home: Path) -> list[tuple[object, ...]]:
    """The published roots; none when a killed first load had not made the schema yet."""
    with open_store(f"chdb://{home / 'store'}") as store:
        if not store.query("SELECT 1 FROM system.tables WHERE name = 'PackageSetName'"):
            return []
        return store.query(
            "SELECT pkgset_nodename, pkgset_kv.v[indexOf(pkgset_kv.k, 'size')] "
            "FROM PackageSetName WHERE pkgset_depth = 0"
        )


def _summary(result: subprocess.CompletedProcess[str]) -> tuple[int, ...]:
    match = SUMMARY.match(result.stdout)
    assert match, (result.stdout, result.stderr)
    return tuple(int(g) for g in match.groups())


def test_load_reload_force(trees: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = repotrack(
        home,
        "load",
        "repo",
        "P10",
        str(trees / "apt"),
        "--date",
        "2024-05-01",
        "--tag",
        "nightly",
        "-w",
        "1",
    )
    assert first.returncode == 0, first.stderr
    assert _summary(first)[:3] == (8, 8, 0)

    again = repotrack(home, "load", "repo", "p10", str(trees / "apt"), "--date", "2024-05-01")
    assert again.returncode == 1
    assert again.stderr.strip() == (
        "ConflictError: p10 2024-05-01 is already loaded (use --force to load it again)"
    )
    assert again.stdout == ""

    forced = repotrack(
        home, "load", "repo", "p10", str(trees / "apt"), "--date", "2024-05-01", "--force"
    )
    assert forced.returncode == 0, forced.stderr
    assert _summary(forced)[:4] == (8, 0, 8, 0)
    assert _roots(home) == [("p10", "8"), ("p10", "8")]


def test_repo_loader_original_options(trees: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = repo_loader(
        home, "P10", str(trees / "createrepo"), "-A", "2024-05-01", "-t", "t", "-w", "1", "-v"
    )
    assert result.returncode == 0, result.stderr
    assert _summary(result)[:3] == (8, 8, 0)
    dup = repo_loader(home, "p10", str(trees / "createrepo"), "-A", "2024-05-01")
    assert dup.returncode == 1 and "already loaded" in dup.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["p10", "{apt}"], "InputError: --date: is required (YYYY-MM-DD)"),
        (["p10", "{apt}", "-A", "2024-13-01"], "InputError: --date: expected YYYY-MM-DD"),
        (["p10", "{missing}", "-A", "2024-05-01"], "InputError: {missing}: no such directory"),
        (["p10", "{apt}", "-A", "2024-05-01", "-c", "{missing}"], "ConfigError: {missing}"),
    ],
)
def test_repo_loader_bad_input(trees: Path, tmp_path: Path, args: list[str], message: str) -> None:
    names = {"apt": str(trees / "apt"), "missing": str(tmp_path / "missing")}
    result = repo_loader(tmp_path / "home", *(a.format(**names) for a in args))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message.format(**names)), result.stderr


def test_config_ini_names_the_server_and_hides_the_password(trees: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.ini"
    config.write_text(
        "[DEFAULT]\nworkers = 2\n[DATABASE]\ndbname = repodb\nhost = 127.0.0.1\n"
        "port = 9\nuser = loader\npassword = s3cret\n"
    )
    result = repo_loader(
        tmp_path / "home", "p10", str(trees / "apt"), "-A", "2024-05-01", "-c", str(config)
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "StoreError: clickhouse://loader@127.0.0.1:9/repodb"
    )
    assert "s3cret" not in result.stderr


@pytest.mark.parametrize("case", ["no-files-list", "bad-rpm", "damaged", "digest"])
def test_bad_trees_fail_with_one_line_and_publish_nothing(
    trees: Path, tmp_path: Path, case: str
) -> None:
    root = tmp_path / "apt"
    shutil.copytree(trees / "apt", root, symlinks=True)
    rpm = root / "files" / "x86_64" / "RPMS" / "rt-hello-libs-1.2.3-4.rt1.x86_64.rpm"
    link = root / "x86_64" / "RPMS.classic" / rpm.name  # what the index names
    if case == "no-files-list":
        shutil.rmtree(root / "files" / "list")
        expected = f"InputError: {root}: not an apt-rpm snapshot: files/list is missing"
    elif case == "bad-rpm":
        rpm.write_bytes(b"not an rpm at all" * 20)
        expected = f"InputError: {link}, offset 0: not an RPM package"
    elif case == "damaged":
        rpm.write_bytes(rpm.read_bytes() + b"x")
        expected = f"InputError: {link}: damaged package: header and payload are"
    else:  # a sound package, but not the one the index describes
        shutil.copy(root / "files" / "noarch" / "RPMS" / "rt-hello-doc-1.2.3-4.rt1.noarch.rpm", rpm)
        expected = f"InputError: {link}: md5 digest mismatch with the repository index"
    home = tmp_path / "home"
    result = repotrack(home, "load", "repo", "p10", str(root), "--date", "2024-05-01", "-w", "1")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), result.stderr
    assert _roots(home) == []


def test_store_locked_by_another_process(trees: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom repotrack.store import open_store\n"
            f"s = open_store('chdb://{home / 'store'}')\nprint('ready', flush=True)\n"
            "sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=_env(home),
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        result = repotrack(home, "load", "repo", "p10", str(trees / "apt"), "--date", "2024-05-01")
    finally:
        holder.communicate("", timeout=60)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"StoreError: chDB store {home / 'store'} is locked")
    assert f"(pid {holder.pid})" in lines[0]


def test_two_loads_on_a_new_home_never_show_chdbs_raw_lock_error(
    trees: Path, tmp_path: Path
) -> None:
    """Both start before the store exists: one loads, the other is told who holds it."""
    for attempt in range(3):
        home = tmp_path / f"home{attempt}"
        procs = [
            subprocess.Popen(
                [
                    str(BIN / "repotrack"),
                    "load",
                    "repo",
                    "p10",
                    str(trees / "apt"),
                    "--date",
                    f"2024-05-0{day}",
                    "-w",
                    "1",
                ],
                env=_env(home),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for day in (1, 2)
        ]
        for proc in procs:
            _out, err = proc.communicate(timeout=240)
            assert "Cannot lock file" not in err and "Traceback" not in err, err
            if proc.returncode != 0:
                assert proc.returncode == 1, err
                (line,) = err.strip().splitlines()
                assert re.search(r"is locked by another process \(pid \d+\)", line), line


def _many_packages(tmp_path: Path, count: int) -> Path:
    """``count`` distinct noarch packages from one rpmbuild run (sub-packages)."""
    need_tool("rpmbuild")
    top = tmp_path / "top"
    lines = [
        "%global debug_package %{nil}",
        "%define __spec_install_post %{nil}",
        "Name: many",
        "Version: 1",
        "Release: 1",
        "Summary: s",
        "License: MIT",
        "AutoReqProv: no",
        "BuildArch: noarch",
        "%description",
        "d",
    ]
    for i in range(count):
        lines += [f"%package -n many-{i}", f"Summary: s{i}", f"%description -n many-{i}", "d"]
    lines += [
        "%install",
        "mkdir -p %{buildroot}/usr/share/many",
        f"for i in $(seq 0 {count - 1}); do echo $i > %{{buildroot}}/usr/share/many/$i; done",
    ]
    for i in range(count):
        lines += [f"%files -n many-{i}", f"/usr/share/many/{i}"]
    (tmp_path / "many.spec").write_text("\n".join(lines) + "\n")
    subprocess.run(
        [
            "rpmbuild",
            "-ba",
            "--quiet",
            "--define",
            f"_topdir {top}",
            "--define",
            "_build_id_links none",
            str(tmp_path / "many.spec"),
        ],
        check=True,
        capture_output=True,
    )
    tree = tmp_path / "many"
    tree.mkdir()
    for rpm in top.glob("*RPMS/**/*.rpm"):
        shutil.move(rpm, tree / rpm.name)
    for rpm in (FIXTURES / "rpm").glob("*/*.rpm"):
        shutil.copy(rpm, tree)
    for rpm in (DATA / "rpms").glob("*.rpm"):
        shutil.copy(rpm, tree)
    return tree


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_mid_load_publishes_nothing_and_rerun_finishes(
    tmp_path: Path, sig: signal.Signals
) -> None:
    tree = _many_packages(tmp_path, 120)
    args = [
        str(BIN / "repotrack"),
        "load",
        "repo",
        "p10",
        str(tree),
        "--date",
        "2024-05-01",
        "-w",
        "2",
    ]
    timing_home = tmp_path / "timing"
    started = time.monotonic()
    full = _run(args, timing_home)
    assert full.returncode == 0, full.stderr
    total = _summary(full)[0]
    elapsed = time.monotonic() - started
    published = _roots(timing_home)  # [("p10", "<distinct packages>")]

    home = tmp_path / "home"
    proc = subprocess.Popen(
        args, env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    time.sleep(elapsed * 0.6)
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=120)
    if proc.returncode == 0:  # finished before the signal: still a consistent state
        assert _roots(home) == published
        return
    if sig == signal.SIGINT:
        assert proc.returncode == 130, err
        assert "interrupted: nothing was published" in err
    roots = _roots(home)
    assert roots in ([], published)
    rerun = _run(args, home)
    if roots:
        assert rerun.returncode == 1 and "already loaded" in rerun.stderr
    else:
        assert rerun.returncode == 0, rerun.stderr
        packages, new, known, _files = _summary(rerun)
        assert packages == total and new + known == total
    assert _roots(home) == published


@pytest.mark.parametrize(
    ("config", "flags", "url"),
    [
        ("", [], None),
        (
            "[DATABASE]\ndbname=repodb\nhost=db.example\nport=9000\nuser=u\npassword=p@ss:w/rd\n",
            [],
            "clickhouse://u:p%40ss%3Aw%2Frd@db.example:8123/repodb",
        ),
        (
            "[DATABASE]\ndbname=repodb\nhost=db.example\nport=8124\n",
            ["-s", "other.example", "-d", "x", "-u", "me"],
            "clickhouse://me@other.example:8124/x",
        ),
        ("[LOGGING]\nlog_to_console=yes\n", [], "clickhouse://default@localhost:8123/default"),
    ],
)
def test_repo_loader_store_url(
    tmp_path: Path, config: str, flags: list[str], url: str | None
) -> None:
    from repotrack.cli.repo_loader import build_parser, store_url_from_args

    argv = ["p10", str(tmp_path)]
    if config:
        (tmp_path / "config.ini").write_text(config)
        argv += ["-c", str(tmp_path / "config.ini")]
    assert store_url_from_args(build_parser().parse_args(argv + flags)) == url


def _damaged_tree(tmp_path: Path) -> tuple[Path, list[str]]:
    """Our test RPMs plus a cut one and a text file named like a package."""
    tree = tmp_path / "tree"
    tree.mkdir()
    for rpm in (DATA / "rpms").glob("*.rpm"):
        shutil.copy(rpm, tree)
    whole = (DATA / "rpms" / "rt-hello-1.2.3-4.rt1.src.rpm").read_bytes()
    (tree / "rt-cut-1-1.src.rpm").write_bytes(whole[: len(whole) - 500])
    (tree / "notes-1-1.noarch.rpm").write_text("not a package\n")
    return tree, ["notes-1-1.noarch.rpm", "rt-cut-1-1.src.rpm"]


def test_damaged_packages_fail_the_load_or_are_left_out_with_skip_bad(tmp_path: Path) -> None:
    tree, bad = _damaged_tree(tmp_path)
    good = len(list((DATA / "rpms").glob("*.rpm")))  # the hand count: 8 sound packages
    home = tmp_path / "home"
    args = ["load", "repo", "p10", str(tree), "--date", "2024-05-01", "-w", "2"]
    failed = repotrack(home, *args)
    assert failed.returncode == 2, failed.stderr
    (line,) = failed.stderr.strip().splitlines()
    assert any(str(tree / name) in line for name in bad), line
    assert _roots(home) == []
    skipped = repotrack(home, *args, "--skip-bad")
    assert skipped.returncode == 0, skipped.stderr
    # The failed run stored the packages before the bad one; they count as known now.
    packages, new, known = _summary(skipped)[:3]
    assert packages == good and new + known == good
    assert "2 bad left out)" in skipped.stdout
    left_out = sorted(line for line in skipped.stderr.splitlines() if line.startswith("left out "))
    assert [line.split(":")[0] for line in left_out] == [f"left out {name}" for name in bad]
    assert "not an RPM package" in left_out[0] and "damaged package" in left_out[1]
    assert _roots(home) == [("p10", str(good))]


def test_verify_known_catches_a_payload_changed_under_the_same_header(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for rpm in (DATA / "rpms").glob("*.rpm"):
        shutil.copy(rpm, tree)
    home = tmp_path / "home"
    first = repotrack(home, "load", "repo", "p10", str(tree), "--date", "2024-05-01")
    assert first.returncode == 0, first.stderr
    changed = tree / "rt-hello-1.2.3-4.rt1.x86_64.rpm"
    data = bytearray(changed.read_bytes())
    data[-40] ^= 0x01  # inside the compressed payload; the headers are untouched
    changed.write_bytes(bytes(data))
    trusting = repotrack(home, "load", "repo", "p10", str(tree), "--date", "2024-05-02")
    assert trusting.returncode == 0 and "(0 new, 8 known)" in trusting.stdout
    checked = repotrack(
        home, "load", "repo", "p10", str(tree), "--date", "2024-05-03", "--verify-known"
    )
    assert checked.returncode == 2, checked.stderr
    (line,) = checked.stderr.strip().splitlines()
    assert line.startswith(f"InputError: {changed}: damaged package: payload"), line
    clean = tmp_path / "clean"
    shutil.copytree(DATA / "rpms", clean)
    verified = repotrack(
        home, "load", "repo", "p10", str(clean), "--date", "2024-05-04", "--verify-known"
    )
    assert verified.returncode == 0 and "(0 new, 8 known)" in verified.stdout, verified.stderr
