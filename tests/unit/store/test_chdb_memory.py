"""chDB's memory in a short process: no pyarrow, start-up pages of the library given back.

Each measurement runs in a fresh interpreter (the test process has chDB loaded and
its pages touched already). Memory is compared between two processes or before and
after one call, never against a fixed figure.
"""

from __future__ import annotations

import ctypes
import json
import mmap
import os
import subprocess
import sys
from pathlib import Path

import pytest

from repotrack.store import chdb_memory
from repotrack.store.chdb_memory import drop_clean_pages, file_mappings
from tests.unit.store.storeutil import fresh_store_url

PAGE = mmap.PAGESIZE

_OPEN = """
import json, sys
from repotrack.store import open_store
with open_store(sys.argv[1]) as store:
    rows = store.query("SELECT count() FROM PackageSetName WHERE pkgset_depth = 0")
    modules = sorted(m for m in ("pyarrow", "numpy", "pandas") if m in sys.modules)
    import pyarrow  # still importable by anything else in the process
print(json.dumps({"rows": rows, "modules": modules}))
"""

_BARE_IMPORT = """
import json, sys
sys.modules["pyarrow"] = None
import chdb
from repotrack.store.chdb_memory import droppable_library_kib, release_startup_pages
before = droppable_library_kib()
released = release_startup_pages()
after = droppable_library_kib()
from repotrack.store import open_store
with open_store(sys.argv[1]) as store:
    rows = store.query("SELECT count() FROM PackageSetName WHERE pkgset_depth = 0")
print(json.dumps({"before": before, "released": released, "after": after, "rows": rows}))
"""

_STORE_OPEN = """
import json, sys
from repotrack.store import open_store
from repotrack.store.chdb_memory import droppable_library_kib
with open_store(sys.argv[1]) as store:
    rows = store.query("SELECT count() FROM PackageSetName WHERE pkgset_depth = 0")
    print(json.dumps({"rss": droppable_library_kib(), "rows": rows}))
"""


def _run(script: str, url: str) -> dict[str, object]:
    # In UTC: a script that imports chdb itself loads the engine in the process's zone,
    # and a store then refuses an engine not in UTC (``store/zones.py``).
    env = {**os.environ, "TZ": "UTC"}
    done = subprocess.run(
        [sys.executable, "-c", script, url], capture_output=True, text=True, check=False, env=env
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture
def loaded_url(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> str:
    """A store holding ``rows.load_two_snapshots``: two repository roots."""
    return fresh_store_url(tmp_path_factory, tmp_path / "store", loaded=True)


def test_opening_a_store_loads_no_pyarrow(loaded_url: str) -> None:
    pytest.importorskip("pyarrow")  # the test is about hiding it when it is installed
    result = _run(_OPEN, loaded_url)
    assert result == {"rows": [[2]], "modules": []}


def test_released_library_pages_come_back_on_use(loaded_url: str) -> None:
    result = _run(_BARE_IMPORT, loaded_url)
    before, after = int(str(result["before"])), int(str(result["after"]))
    # what it reports is what the library held (give or take a page chDB touched)
    assert int(str(result["released"])) >= before * 9 // 10
    assert after < before // 2
    assert result["rows"] == [[2]]  # the library works on from what was dropped


def test_a_store_open_keeps_less_of_the_library_than_an_import(loaded_url: str) -> None:
    bare = _run(_BARE_IMPORT, loaded_url)
    opened = _run(_STORE_OPEN, loaded_url)
    assert opened["rows"] == [[2]]
    # the import alone left more of the library resident than a whole open and query
    assert int(str(opened["rss"])) < int(str(bare["before"]))


# -- the rule itself, on mappings of plain files ---------------------------------------------
_libc = ctypes.CDLL(None, use_errno=True)
_libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]


def _file(path: Path) -> Path:
    path.write_bytes(b"".join(bytes([65 + n]) * PAGE for n in range(3)))
    return path.resolve()


def test_a_clean_read_only_mapping_is_dropped_and_reads_the_same(tmp_path: Path) -> None:
    path = _file(tmp_path / "clean")
    with path.open("rb") as f:
        view = mmap.mmap(f.fileno(), 3 * PAGE, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ)
    try:
        assert view[:] == path.read_bytes()  # every page resident now
        (mapping,) = file_mappings(str(path))
        assert mapping.droppable and mapping.rss == 3 * PAGE // 1024
        assert drop_clean_pages(str(path)) == 3 * PAGE // 1024
        assert file_mappings(str(path))[0].rss == 0
        assert view[:] == path.read_bytes()
    finally:
        view.close()


def test_a_mapping_with_a_private_copy_is_kept(tmp_path: Path) -> None:
    """A page written through a private mapping exists only in this process; a
    read-only mapping holding one (as the library's relocated RELRO part) is kept."""
    path = _file(tmp_path / "written")
    with path.open("r+b") as f:
        view = mmap.mmap(
            f.fileno(), 3 * PAGE, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE
        )
    try:
        view[PAGE : PAGE + 4] = b"XXXX"
        _ = view[:]
        anchor = ctypes.c_char.from_buffer(view)
        assert _libc.mprotect(ctypes.addressof(anchor), 3 * PAGE, mmap.PROT_READ) == 0
        del anchor
        (mapping,) = file_mappings(str(path))
        assert mapping.perms.startswith("r--") and mapping.anonymous == PAGE // 1024
        assert not mapping.droppable
        assert drop_clean_pages(str(path)) == 0
        assert view[PAGE : PAGE + 4] == b"XXXX"
        assert path.read_bytes()[PAGE : PAGE + 4] == b"BBBB"
    finally:
        view.close()


def test_file_mappings_reads_only_that_file(tmp_path: Path) -> None:
    smaps = tmp_path / "smaps"
    smaps.write_text(
        "7f0000000000-7f0000002000 r--p 00000000 fe:01 12 /lib/x.so\n"
        "Rss:                   8 kB\n"
        "Anonymous:             0 kB\n"
        "7f0000002000-7f0000003000 r--p 00002000 fe:01 12 /lib/x.so\n"
        "Rss:                   4 kB\n"
        "7f0000003000-7f0000004000 r--p 00000000 fe:01 13 /lib/x.so (deleted)\n"
        "Rss:                   4 kB\n"
        "Anonymous:             0 kB\n"
        "7f0000004000-7f0000005000 rw-p 00000000 00:00 0 \n"
        "Rss:                   4 kB\n"
        "Anonymous:             4 kB\n"
    )
    first, second = file_mappings("/lib/x.so", smaps)
    assert (first.start, first.end, first.rss, first.droppable) == (
        0x7F0000000000,
        0x7F0000002000,
        8,
        True,
    )
    assert not second.droppable  # no Anonymous line: taken as holding private copies


def test_release_without_chdb_loaded_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "chdb._chdb", raising=False)
    assert chdb_memory.release_startup_pages() == 0
