"""The image queries print the same whether the CLI opens the store or the service holds it.

The store holds p10 (``tests/data/rpms``, 2024-05-01) and two images of one rootfs (a
tarball and an ext4 file system, 2024-05-02), as in ``test_images_api``. Each command
runs with the store free, then while ``repotrack serve`` holds it; stdout, stderr and
exit status must be identical.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import DATA
from tests.functional.test_images_api import IMG_TAG, TAR_TAG, _meta
from tests.functional.test_load_handoff import _free_port
from tests.functional.test_query_via_service import _env, _run, _serving
from tests.unit.sources.images.imageutil import make_ext, make_rootfs, make_tar
from tests.unit.store.storeutil import fresh_store_url

COMMANDS = [
    ("query", "images"),
    ("query", "images", "--branch", "p10", "--format", "json"),
    ("query", "images", "--edition", "alt-server"),
    ("query", "image", TAR_TAG),
    ("query", "image", IMG_TAG, "--date", "2024-05-02", "--format", "json"),
    ("query", "image-diff", TAR_TAG, IMG_TAG),
    ("query", "image-diff", TAR_TAG, IMG_TAG, "--format", "json"),
    ("query", "image-diff", TAR_TAG),
    ("query", "image-diff", IMG_TAG, "--date", "2024-05-02", "--format", "json"),
    ("query", "image-find", "rt-hello"),
    (
        "query",
        "image-find",
        "rt-hello",
        "--branch",
        "p10",
        "--min-version",
        "3:1.2.3",
        "-f",
        "json",
    ),
    ("query", "image-find", "rt-hello", "--max-version", "3:1.2.2"),
    ("query", "image", TAR_TAG, "--date", "2024-05-01"),
    ("query", "image", ""),
    ("query", "image-diff", TAR_TAG, "p10:nosuch:::release.10.1.0:x86_64:live:tar"),
    ("query", "image-find", ""),
    ("query", "image", TAR_TAG, "--date", "May"),
]

Outputs = tuple[list[tuple[int, str, str]], list[tuple[int, str, str]]]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Outputs:
    from repotrack.ingest import load_repo
    from repotrack.ingest.image import load_image
    from repotrack.store import open_store

    work = tmp_path_factory.mktemp("image-reads")
    home = work / "home"
    url = fresh_store_url(tmp_path_factory, home / "store")
    root = make_rootfs(work / "root")
    tar = make_tar(root, work / "rootfs.tar")
    img = make_ext(root, work / "root.img")
    with open_store(url) as store:
        load_repo(store, branch="p10", path=DATA / "rpms", date=date(2024, 5, 1))
        load_image(
            store, path=tar, meta=_meta(tar, "alt-workstation", "10.1", "release", "live", "tar")
        )
        load_image(store, path=img, meta=_meta(img, "alt-server", "10.2", "beta", "install", "img"))
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
def test_the_answers_are_the_images_answers(outputs: Outputs) -> None:
    """Both ways answered with data, and the errors are the ones a user should see."""
    alone, _held = outputs
    code, out, _ = alone[0]
    assert code == 0 and TAR_TAG in out and IMG_TAG in out
    assert out.rstrip().endswith("2 image(s)")
    code, out, _ = alone[9]
    assert code == 0 and out.rstrip().endswith("2 image package(s)")
    assert alone[12][:2] == (1, "")
    assert (
        alone[12][2].strip() == f"NotFoundError: no image tagged {TAR_TAG} on or before 2024-05-01"
    )
    assert alone[13][0] == 2 and alone[13][2].startswith("InputError: tag: ")
    assert alone[14][0] == 1 and alone[15][0] == 2 and alone[16][0] == 2
