"""Image and ISO loads while ``repotrack serve`` holds the store: handed over, same output.

Two homes get the same repository load and then the same sequence of image commands
(a rootfs tarball of the ``cloud`` edition, its reload refused, a dry run of an ext4
image, an ISO with SquashFS images, ``image_loader``, bad values, a missing file, an
unmatched branch, and the queries of what was stored). In the first home the CLI opens
the store itself; in the second a real ``repotrack serve`` subprocess holds it, so each
load must be handed to the service (``POST /api/v1/loads``, kinds ``image``/``iso``).
Exit status, stdout and stderr must be the same (the load's own duration in seconds
and the hand-off's one line aside), and the service must really have run the loads.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from repotrack.passwords import hash_password
from tests.conftest import DATA
from tests.functional.test_load_handoff import HANDED, _free_port
from tests.functional.test_query_via_service import BIN, _serving
from tests.unit.sources.images.imageutil import (
    alt_iso_tree,
    make_ext,
    make_iso,
    make_rootfs,
    make_tar,
)

pytestmark = pytest.mark.slow

PASSWORD = "Passw0rd~"
CLOUD_TAG = "p10:cloud:::rc.10.0.0:x86_64:install:tar"
ISO_TAG = "p10:alt-workstation:::release.10.1.0:x86_64:install:iso"
_SECONDS = re.compile(r", \d+\.\d s$", re.MULTILINE)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

Result = tuple[int, str, list[str]]


def _meta_args(path: Path, *extra: str, date: str = "2024-05-02") -> tuple[str, ...]:
    return (
        str(path), "--version", "10.1", "--release", "release", "--variant", "install",
        "--arch", "x86_64", "--branch", "p10", "--date", date,
        "--url", f"https://example.org/{path.name}", *extra,
    )  # fmt: skip


def _commands(images: dict[str, Path]) -> list[tuple[str, ...]]:
    tar, img, iso = images["tar"], images["img"], images["iso"]
    cloud = (
        "repotrack", "load", "image", str(tar), "--edition", "cloud", "--version", "10",
        "--release", "rc", "--variant", "install", "--arch", "x86_64", "--branch", "p10",
        "--date", "2024-05-02", "--url", "https://example.org/rootfs.tar", "--type", "tar",
    )  # fmt: skip
    return [
        cloud,
        cloud,  # already loaded: ConflictError from whoever runs it
        (*cloud, "--force", "--date", "2024-05-03"),
        (
            "repotrack",
            "load",
            "image",
            *_meta_args(img, "--edition", "alt-server"),
            "--type",
            "img",
            "--dry-run",
        ),
        ("repotrack", "load", "iso", *_meta_args(iso, "--edition", "alt-workstation")),
        (
            "image_loader",
            *_meta_args(img, "--edition", "alt-server", date="2024-05-04"),
            "--platform",
            "",
            "--flavor",
            "",
            "--type",
            "img",
        ),
        (
            "repotrack",
            "load",
            "image",
            *_meta_args(img, "--edition", "alt-server"),
            "--type",
            "img",
            "--version",
            "10.x",
        ),
        (
            "repotrack",
            "load",
            "iso",
            *_meta_args(img.with_name("nosuch.iso"), "--edition", "alt-workstation"),
        ),
        (
            "repotrack",
            "load",
            "image",
            *_meta_args(img, "--edition", "alt-server"),
            "--type",
            "img",
            "--branch",
            "p9",
        ),
        ("repotrack", "query", "images", "--format", "json"),
        ("repotrack", "query", "image", CLOUD_TAG, "--date", "2024-05-03", "--format", "json"),
        ("repotrack", "query", "image", ISO_TAG, "--format", "json"),
        ("repotrack", "query", "image-diff", ISO_TAG, CLOUD_TAG),
    ]


def _env(home: Path, port: int, roots: list[Path]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPOTRACK_")}
    env.update(
        REPOTRACK_HOME=str(home),
        REPOTRACK_SERVICE__LISTEN=f"127.0.0.1:{port}",
        REPOTRACK_SERVICE__PASSWORD_HASH=hash_password(PASSWORD, iterations=1000),
        REPOTRACK_LOADS__ALLOWED_ROOTS=json.dumps([str(r) for r in roots]),
        REPOTRACK_PASSWORD=PASSWORD,
        COLUMNS="400",
    )
    return env


def _run(env: dict[str, str], args: tuple[str, ...]) -> tuple[Result, str]:
    done = subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    errors = [line for line in done.stderr.splitlines() if re.match(r"^\w+Error: ", line)]
    stdout = _UUID.sub("UUID", _SECONDS.sub(", N s", done.stdout))  # a load's own
    return (done.returncode, stdout, errors), done.stderr


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    work = tmp_path_factory.mktemp("image-handoff")
    root = make_rootfs(work / "root")
    images = {
        "tar": make_tar(root, work / "rootfs.tar"),
        "img": make_ext(root, work / "root.img"),
        "iso": make_iso(alt_iso_tree(work, root), work / "alt.iso"),
    }
    commands = _commands(images)
    results: dict[str, object] = {"commands": commands}
    for mode in ("alone", "held"):
        home = work / mode
        port = _free_port()
        env = _env(home, port, [work, DATA])
        repo = ("repotrack", "load", "repo", "p10", str(DATA / "rpms"), "--date", "2024-05-01")
        (code, _, _), stderr = _run(env, repo)
        assert code == 0, stderr
        if mode == "alone":
            results[mode] = [_run(env, c) for c in commands]
            continue
        with _serving(env, port, work / "serve.log"):
            results[mode] = [_run(env, c) for c in commands]
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
                jobs = http.get("/api/v1/loads", auth=("admin", PASSWORD)).json()["items"]
            results["jobs"] = jobs
    yield results


@pytest.mark.parametrize("index", range(13))
def test_same_result_with_the_store_free_or_held(runs: dict[str, object], index: int) -> None:
    alone = runs["alone"][index]  # type: ignore[index]
    held = runs["held"][index]  # type: ignore[index]
    assert "Traceback" not in alone[1] + held[1]
    assert held[0] == alone[0], (alone[1], held[1])
    # and nothing else on stderr: no progress lines, only the hand-off's own line
    handed = [line for line in held[1].splitlines() if not HANDED.search(line)]
    assert handed == alone[1].splitlines()


def test_the_loads_were_handed_over(runs: dict[str, object]) -> None:
    commands: list[tuple[str, ...]] = runs["commands"]  # type: ignore[assignment]
    held: list[tuple[Result, str]] = runs["held"]  # type: ignore[assignment]
    alone: list[tuple[Result, str]] = runs["alone"]  # type: ignore[assignment]
    loads = [i for i, c in enumerate(commands) if c[0] == "image_loader" or c[1] == "load"]
    for i in loads:
        assert "handed the load" not in alone[i][1]
    # Bad values and a missing file are refused before anything is handed over.
    handed = [i for i in loads if HANDED.search(held[i][1])]
    assert handed == [0, 1, 2, 3, 4, 5, 8], [held[i][1] for i in loads]
    jobs = runs["jobs"]
    kinds = sorted(job["kind"] for job in jobs)  # type: ignore[attr-defined]
    assert kinds == ["image"] * 6 + ["iso"]
    states = {job["params"]["file"]: job["state"] for job in reversed(jobs)}  # type: ignore[attr-defined]
    assert states == {"rootfs.tar": "done", "root.img": "failed", "alt.iso": "done"}
    first = held[0][0]
    assert first[0] == 0 and first[1].startswith(
        f"{CLOUD_TAG} 2024-05-02: loaded, 5 packages (0 not in the store), base p10 2024-05-01"
    )
    assert held[1][0][2] == [
        f"ConflictError: image {CLOUD_TAG} of 2024-05-02 is already loaded "
        "(use --force to load it again)"
    ]
