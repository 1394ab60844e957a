"""Opening the embedded store does not import pyarrow (nor numpy through it).

chDB treats pyarrow as optional (Arrow result formats only, which the store does not
use), and importing it costs about 0.3 s of CPU per process: a whole store reload
spent a third of its time there. chDB imports its connection module lazily, on the
first ``chdb.connect``, so hiding pyarrow only while ``import chdb`` runs is not
enough. Checked in a fresh interpreter, as a command starts.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_SCRIPT = """
import sys
from pathlib import Path
from repotrack.store.chdb_backend import ChdbStore

store = ChdbStore(Path(sys.argv[1]))
try:
    assert store.query("SELECT 1 + 1") == [(2,)]
finally:
    store.close()
print(sorted(m for m in sys.modules if m.split(".")[0] in ("pyarrow", "numpy", "pandas")))
"""


def _run(script: str, store: Path) -> str:
    """``script`` in a fresh interpreter with the store path as its argument: its output."""
    done = subprocess.run(
        [sys.executable, "-c", script, str(store)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_opening_and_querying_the_store_imports_no_pyarrow(tmp_path: Path) -> None:
    assert _run(_SCRIPT, tmp_path / "store") == "[]"


_QUIET = """
import sys
from pathlib import Path
from repotrack.store.chdb_backend import ChdbStore

store = ChdbStore(Path(sys.argv[1]))
try:
    assert store.query("SELECT 1 + 1") == [(2,)]
    # the engine came without chdb/__init__.py, whose import starts a server of its own
    assert "chdb" not in sys.modules, "chdb/__init__.py ran"
    assert "chdb._chdb" in sys.modules and "chdb.state" in sys.modules
finally:
    store.close()
import chdb  # chDB's own package still imports, on the extension loaded already

assert chdb._chdb is sys.modules["chdb._chdb"]
assert chdb.query("SELECT 40 + 2", "CSV").bytes().strip() == b"42"
print("ok")
"""


def test_opening_the_store_skips_chdbs_import_time_server(tmp_path: Path) -> None:
    assert _run(_QUIET, tmp_path / "store") == "ok"
